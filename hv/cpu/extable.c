#include "hv/cpu/extable.h"

#include "hv/cpu/percpu.h"
#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"
#include "include/hv/abi.h"

_Static_assert(VEC_PF == 14 && HV_GUEST_LOWER_HALF_END == 0x0000800000000000ULL,
               "extable_fault_on_guest's constants");

extern const struct extable_entry __extable_start[], __extable_end[];

bool extable_fixup(struct trap_frame *f, uint64_t cr2)
{
    /* Only a guest address is the guest's to get wrong (extable.h). */
    if (!extable_fault_on_guest(f->vector, cr2))
        return false;
    uint64_t fixup = extable_search(__extable_start, __extable_end, f->rip);
    if (!fixup)
        return false;
    f->rip = fixup;
    /* The entry cleared AC for trap_dispatch; the iretq would set it again
     * from the frame, leaving SMAP off after the fixup. */
    f->rflags &= ~RFLAGS_AC;
    this_cpu()->entry.uaccess_fixups++;
    return true;
}
