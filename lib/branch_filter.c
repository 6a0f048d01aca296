/* The x86 branch filter (lib/branch_filter.h). Freestanding: the UEFI stub,
 * the packer and the unit tests share it. */
#include "lib/branch_filter.h"

#include <stdbool.h>

#define WINDOW (1u << 24) /* the values changed: [-WINDOW, WINDOW) */

/* Bit k set where byte k of the 32 at p is E8 or E9: (b | 1) == E9. With
 * SSE2 (the stub may use it: UEFI hands x64 applications SSE set up, and
 * this function uses only the registers every call may clobber), four
 * instructions a 16 bytes; the ALU's zero-byte test took two instructions a
 * byte, 0.44 M of the boot (docs/benchmarks.md boot_first_guest). */
#if defined(__SSE2__) && !defined(BRANCH_FILTER_PORTABLE)
typedef char bytes16 __attribute__((vector_size(16)));
static inline uint32_t e8e9_mask32(const uint8_t *p)
{
    bytes16 a, b;
    __builtin_memcpy(&a, p, 16);
    __builtin_memcpy(&b, p + 16, 16);
    a = (a | 1) == (char)0xE9;
    b = (b | 1) == (char)0xE9;
    return (uint32_t)__builtin_ia32_pmovmskb128(a) |
           (uint32_t)__builtin_ia32_pmovmskb128(b) << 16;
}
#else
static inline uint32_t e8e9_mask32(const uint8_t *p)
{
    uint32_t m = 0;
    for (unsigned k = 0; k < 32; k++)
        m |= (uint32_t)((p[k] | 1) == 0xE9) << k;
    return m;
}
#endif

/* The four bytes at `at`, their end at offset `pos`: moved by pos (decode:
 * moved back) if they are one of the values changed. */
static inline void convert(uint8_t *at, uint32_t pos, bool decode)
{
    uint32_t v;
    __builtin_memcpy(&v, at, 4); /* little endian: x86 only */
    if (v + WINDOW < 2 * WINDOW) {
        v = ((v + (decode ? 0u - pos : pos) + WINDOW) & (2 * WINDOW - 1)) - WINDOW;
        __builtin_memcpy(at, &v, 4);
    }
}

/* Every E8/E9 byte's four bytes after it, 32 bytes at a time: each block's
 * E8/E9 bytes from its mask, lowest first, each taking the four bytes after
 * it out of the scan (`skip`: those that reach into the next block). */
static inline void run(uint8_t *code, size_t size, bool decode)
{
    size_t base = 0;
    unsigned skip = 0;
    /* 36: every E8/E9 in the block has its four bytes inside the code. */
    for (; size - base >= 36; base += 32) {
        uint32_t m = e8e9_mask32(code + base) & ~0u << skip;
        skip = 0;
        while (m) {
            unsigned k = (unsigned)__builtin_ctz(m);
            convert(code + base + k + 1, (uint32_t)(base + k + 5), decode);
            if (k + 5 >= 32) {
                skip = k + 5 - 32;
                break;
            }
            m &= ~0u << (k + 5);
        }
    }
    /* The last bytes one at a time. */
    for (size_t i = base + skip; i + 5 <= size; i++) {
        if ((code[i] | 1) == 0xE9) {
            convert(code + i + 1, (uint32_t)(i + 5), decode);
            i += 4;
        }
    }
}

void branch_filter_encode(uint8_t *code, size_t size)
{
    run(code, size, false);
}

void branch_filter_decode(uint8_t *code, size_t size)
{
    run(code, size, true);
}
