#include "vcpu/guest_trap.h"

#include "hv/console/log.h"
#include "hv/cpu/x86.h"
#include "hv/debug/panic.h"
#include "hv/guest/guest.h"
#include "lib/fmt.h"
#include "vcpu/vcpu.h"

#define PF_PRESENT (1u << 0)
#define PF_WRITE (1u << 1)
#define PF_FETCH (1u << 4)

void guest_exception(struct vcpu *v, struct trap_frame *f)
{
    char reason[112];
    uint64_t cr2 = f->vector == VEC_PF ? read_cr2() : 0;

    if (f->vector == VEC_NMI) {
        /* Not the guest's doing: an NMI that arrived while it ran. */
        log_warn("NMI while guest %s ran; ignored", v->guest->name);
        return;
    }
    if (f->vector == VEC_MC || f->vector == VEC_DF)
        panic_trap(f); /* hardware trouble or a broken hv, not the guest */

    v->arch.trap = (struct pending_trap){true, f->vector, f->error_code, cr2, f->rip};
    if (f->vector == VEC_PF)
        fmt_format(reason, sizeof(reason), "#PF (page fault) %s 0x%lx (%s), RIP 0x%lx",
                   (f->error_code & PF_FETCH) ? "executing" :
                   (f->error_code & PF_WRITE) ? "writing" : "reading",
                   (unsigned long)cr2,
                   (f->error_code & PF_PRESENT) ? "protection" : "not mapped",
                   (unsigned long)f->rip);
    else if (f->vector == VEC_GP || f->vector == VEC_SS || f->vector == VEC_NP ||
             f->vector == VEC_TS || f->vector == VEC_AC)
        fmt_format(reason, sizeof(reason), "%s (%s), error code 0x%lx, RIP 0x%lx",
                   exception_mnemonic(f->vector), exception_name(f->vector),
                   (unsigned long)f->error_code, (unsigned long)f->rip);
    else
        fmt_format(reason, sizeof(reason), "%s (%s), RIP 0x%lx", exception_mnemonic(f->vector),
                   exception_name(f->vector), (unsigned long)f->rip);
    guest_end(v->guest, GUEST_FAULTED, -1, reason);
}
