/* The exception table: the few instructions in hv that may fault on
 * purpose (the accesses to guest memory in hv/guest/uaccess_copy.S), each
 * with the address to resume at instead. A #PF on a guest address raised
 * by hv at a listed instruction is turned into an error code by that
 * fixup; any other exception, or one at any other instruction, is still a
 * hypervisor bug and panics. The entries
 * are written next to the instructions they cover (the EXTABLE_ENTRY macro
 * below, assembly only) into their own section, .extable (hv/hv.ld). */
#pragma once

#ifdef __ASSEMBLER__
/* The instruction at `fault` may fault on a guest address; resume at `fixup`. */
.macro EXTABLE_ENTRY fault, fixup
    .pushsection .extable, "a"
    .balign 8
    .quad \fault, \fixup
    .popsection
.endm
#else
#include <stdbool.h>
#include <stdint.h>

struct extable_entry {
    uint64_t fault_ip;
    uint64_t fixup_ip;
};

/* Whether an exception hv raised can be a copy's fault on guest memory,
 * which a listed instruction may turn into -HV_EFAULT: a #PF (vector 14)
 * on a lower-half address. Not a #PF on an upper-half address, nor a #GP:
 * the copies' range checks keep the guest side inside the lower half,
 * where no address is non-canonical, so either one came from hv's side of
 * the copy (a bad hv pointer) and is a bug that must panic, as Linux's
 * fixups would also treat a kernel address. */
static inline bool extable_fault_on_guest(uint64_t vector, uint64_t cr2)
{
    return vector == 14 && cr2 < 0x0000800000000000ULL; /* HV_GUEST_LOWER_HALF_END */
}

/* The fixup for an exception at ip in hv, or 0 if ip is not listed. The
 * table is searched whole (it holds a handful of entries): the path is
 * the error path, not a hot one. */
uint64_t extable_search(const struct extable_entry *first, const struct extable_entry *end,
                        uint64_t ip);

struct trap_frame;
/* For an exception hv raised itself (trap_dispatch): if it is a #PF on a
 * guest (lower-half) address at a listed instruction, the frame
 * is made to resume at the fixup with RFLAGS.AC clear (SMAP back on), the
 * fault is counted (entry_report logs the count), and true is returned. cr2 is CR2 for a #PF. */
bool extable_fixup(struct trap_frame *f, uint64_t cr2);
#endif
