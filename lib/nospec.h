/* Index clamping against Spectre v1 (bounds-check bypass).
 *
 * After `if (i >= n) return -HV_EINVAL;` the CPU may still run the code
 * below with an out-of-range i while it waits to learn the branch's
 * outcome, and a load from table[i] there can bring memory the guest must
 * never see into the cache, where a timing probe finds it. Once the bounds
 * check has passed, each guest-chosen index goes through
 * array_index_nospec(i, n) before it is used: the result is i when i < n
 * and 0 otherwise, computed from data alone (a compare and a subtract with
 * borrow), so there is no branch the CPU could predict wrongly and the
 * speculative path indexes element 0 at worst. On the architectural path
 * i < n already holds and nothing changes.
 *
 * Usable in hv (freestanding) and in host unit tests (x86-64 only: the
 * mask is two x86 instructions in inline assembly, which the compiler can
 * neither see through nor turn back into a branch). */
#pragma once

#include <stdint.h>

#if !defined(__x86_64__)
#error "lib/nospec.h: array_index_mask_nospec is written for x86-64"
#endif

/* All ones when index < size, 0 otherwise (size 0: always 0).
 * `cmp size, index` sets CF exactly when index < size (unsigned borrow);
 * `sbb mask, mask` turns CF into 0 - CF: ~0 or 0. The asm is volatile and
 * opaque, so the compiler cannot fold it into the bounds check it follows
 * (which it could with a plain C expression, then emit a branch or drop
 * the mask as redundant on that path). */
static inline __attribute__((always_inline)) uint64_t array_index_mask_nospec(uint64_t index,
                                                                               uint64_t size)
{
    uint64_t mask;
    __asm__ volatile("cmp %[size], %[index]\n\t"
                     "sbb %[mask], %[mask]"
                     : [mask] "=r"(mask)
                     : [size] "rme"(size), [index] "r"(index)
                     : "cc");
    return mask;
}

/* index when index < size, else 0, with no branch to mispredict. Use the
 * returned value (not the original) for every access that follows. */
static inline __attribute__((always_inline)) uint64_t array_index_nospec(uint64_t index,
                                                                          uint64_t size)
{
    return index & array_index_mask_nospec(index, size);
}
