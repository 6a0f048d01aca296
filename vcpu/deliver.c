#include "vcpu/deliver.h"

#include "hv/cpu/gdt.h"
#include "hv/cpu/x86.h"
#include "hv/guest/guest.h"
#include "hv/guest/uaccess.h"
#include "hv/mm/xpti.h"
#include "lib/fmt.h"
#include "vcpu/vcpu.h"

_Static_assert(SEL_USER_CODE == HV_KERNEL_CS, "guest kernel-mode CS is the ABI's");
_Static_assert(SEL_GUEST_USER_CODE == HV_USER_CS, "guest user-mode CS is the ABI's");
_Static_assert(SEL_USER_DATA == HV_DATA_SS, "guest SS is the ABI's");

#define RFLAGS_NT (1ull << 14)

void vcpu_set_user_mode(struct vcpu *v, bool user)
{
    v->arch.user_mode = user;
    v->guest->shared->vcpu[v->id].in_user_mode = user;
    space_load(vcpu_space(v));
}

static bool fail(struct vcpu *v, const char *what, const char *why, uint64_t addr)
{
    char reason[112];
    fmt_format(reason, sizeof(reason), "fault while delivering %s: %s 0x%lx", what, why,
               (unsigned long)addr);
    guest_end(v->guest, GUEST_FAULTED, -1, reason);
    return false;
}

bool deliver_to_kernel(struct vcpu *v, struct trap_frame *f, uint64_t handler, bool mask_events,
                       bool push_error, uint64_t error, const char *what)
{
    struct guest *g = v->guest;
    struct hv_vcpu_shared *shared = &g->shared->vcpu[v->id];
    bool from_user = v->arch.user_mode;
    uint64_t sp = from_user ? v->arch.kernel_sp : f->rsp;
    if (from_user && !sp)
        return fail(v, what, "no kernel stack registered for entries from user mode, rsp", f->rsp);
    if (!guest_code_mapped(&g->space, handler))
        return fail(v, what, "the handler is not mapped executable at", handler);

    /* The native 64-bit frame, as the CPU builds it: the stack aligned to
     * 16 bytes, then ss, rsp, rflags, cs, rip and perhaps an error code.
     * rflags carries the virtual IF (the event mask, inverted). */
    uint64_t frame[6];
    unsigned n = 0;
    uint64_t rflags = (f->rflags & ~RFLAGS_IF) | (shared->upcall_mask ? 0 : RFLAGS_IF);
    if (push_error)
        frame[n++] = error;
    frame[n++] = f->rip;
    frame[n++] = from_user ? HV_USER_CS : HV_KERNEL_CS;
    frame[n++] = rflags;
    frame[n++] = f->rsp;
    frame[n++] = HV_DATA_SS;
    sp = (sp & ~15ull) - n * 8;
    if (sp >= HV_GUEST_LOWER_HALF_END ||
        copy_to_space(&g->space, sp, frame, n * 8) != 0)
        return fail(v, what, "the kernel stack is not writable at", sp);

    if (from_user)
        vcpu_set_user_mode(v, false);
    if (mask_events)
        shared->upcall_mask = 1;
    f->rip = handler;
    f->rsp = sp;
    f->cs = HV_KERNEL_CS;
    f->ss = HV_DATA_SS;
    f->rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF);
    /* rcx and r11 are live here: the return must not be a sysret. */
    f->vector = VEC_GUEST_BOUNCE;
    return true;
}

int64_t vcpu_iret(struct vcpu *v, struct trap_frame *f, int *error)
{
    struct guest *g = v->guest;
    struct hv_iret_frame fr;
    *error = 0;
    /* Only guest kernel mode can make hypercalls, so the frame is read from
     * the kernel's address space. */
    if (copy_from_space(&g->space, &fr, f->rsp, sizeof(fr)) != 0) {
        *error = -HV_EFAULT;
        return 0;
    }
    bool to_user = fr.cs == HV_USER_CS;
    if ((fr.cs != HV_KERNEL_CS && !to_user) || fr.ss != HV_DATA_SS || fr.flags != 0 ||
        fr.rip >= HV_GUEST_LOWER_HALF_END || fr.rsp >= HV_GUEST_LOWER_HALF_END ||
        (to_user && !guest_space(g, v->arch.user_space)) ||
        (to_user && v->arch.user_space == HV_SPACE_KERNEL)) {
        *error = -HV_EINVAL;
        return 0;
    }
    g->shared->vcpu[v->id].upcall_mask = (fr.rflags & RFLAGS_IF) ? 0 : 1;
    f->rcx = fr.rcx;
    f->r11 = fr.r11;
    f->rip = fr.rip;
    f->rsp = fr.rsp;
    f->rflags = vcpu_sanitize_rflags(fr.rflags);
    f->cs = to_user ? HV_USER_CS : HV_KERNEL_CS;
    f->ss = HV_DATA_SS;
    f->vector = VEC_GUEST_BOUNCE; /* rcx and r11 are the frame's: iretq */
    if (to_user != v->arch.user_mode)
        vcpu_set_user_mode(v, to_user);
    return (int64_t)fr.rax;
}
