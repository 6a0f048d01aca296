#include "hv/cpu/extable.h"

#include "hv/cpu/percpu.h"
#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"
#include "include/hv/abi.h"

extern const struct extable_entry __extable_start[], __extable_end[];

bool extable_fixup(struct trap_frame *f, uint64_t cr2)
{
    /* A #PF on hv's own side of a copy (the upper half) is a bug in hv,
     * whatever the instruction: only a guest address is the guest's to
     * get wrong. A #GP carries no address; the copies' range checks keep
     * non-canonical guest addresses out, so one there is fixed up too. */
    if (f->vector == VEC_PF ? cr2 >= HV_GUEST_LOWER_HALF_END : f->vector != VEC_GP)
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
