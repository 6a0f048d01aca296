#include "vcpu/deliver.h"

#include "hv/cpu/gdt.h"
#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"
#include "hv/debug/trace.h"
#include "hv/guest/guest.h"
#include "hv/guest/uaccess.h"
#include "hv/mm/xpti.h"
#include "hv/xen/xen.h"
#include "lib/fmt.h"
#include "vcpu/deliver_fast.h"
#include "vcpu/vcpu.h"

_Static_assert(SEL_USER_CODE == HV_KERNEL_CS, "guest kernel-mode CS is the ABI's");
_Static_assert(SEL_GUEST_USER_CODE == HV_USER_CS, "guest user-mode CS is the ABI's");
_Static_assert(SEL_USER_DATA == HV_DATA_SS, "guest SS is the ABI's");

#define RFLAGS_NT (1ull << 14)

/* The mode and its space, which the caller has looked up already. */
static void enter_mode(struct vcpu *v, bool user, const struct pt_space *space)
{
    v->arch.user_mode = user;
    v->guest->shared->vcpu[v->id].in_user_mode = user;
    space_load(space);
}

static const char *delivery_name(uint32_t what)
{
    switch (what) {
    case DELIVERY_INT_N:
        return "int n";
    case DELIVERY_SYSCALL:
        return "a system call";
    case DELIVERY_UPCALL:
        return "an event upcall";
    default:
        return exception_mnemonic(what);
    }
}

static bool __attribute__((noinline, cold)) fail(struct vcpu *v, uint32_t what, const char *why,
                                                  uint64_t addr)
{
    char reason[112];
    fmt_format(reason, sizeof(reason), "fault while delivering %s: %s 0x%lx", delivery_name(what),
               why, (unsigned long)addr);
    guest_end(v->guest, GUEST_FAULTED, -1, reason);
    return false;
}

/* The lean paths' calls into C (vcpu/deliver_fast.S): the switch to
 * kernel mode of an entry from user mode (deliver_to_kernel's; the
 * bounced system call's is inline), and the report of a frame they could
 * not write. */
void deliver_enter_kernel_mode(struct vcpu *v)
{
    enter_mode(v, false, &v->guest->space);
}

bool deliver_stack_unwritable(struct vcpu *v, uint32_t what, uint64_t sp)
{
    return fail(v, what, "the kernel stack is not writable at", sp);
}

/* deliver_to_kernel's general path: what the lean one does not take. */
bool deliver_to_kernel_general(struct vcpu *v, struct trap_frame *f, uint64_t handler,
                               uint32_t how)
{
    TRACE_VCPU(TR_TRAP, v, how >> 8, 0);
    struct hv_vcpu_shared *shared = &v->guest->shared->vcpu[v->id];
    /* user_mode and xen are adjacent bytes (vcpu/iret_fast.c asserts it):
     * one test for both, as hypercall_entry's, so kernel-mode deliveries
     * of hv's own guests pay nothing for the Xen hook. */
    uint16_t unusual;
    __builtin_memcpy(&unusual, &v->arch.user_mode, sizeof(unusual));
    bool from_user = false;
    uint64_t sp = f->rsp;
    if (__builtin_expect(unusual, 0)) {
        if (v->arch.xen) { /* Xen personality hook: only its upcalls come here */
            xen_upcall(v, f);
            return true;
        }
        from_user = true;
        sp = v->arch.kernel_sp;
        if (!sp)
            return fail(v, how >> 8, "no kernel stack registered for entries from user mode, rsp",
                        f->rsp);
        /* First, so the frame is written in the space now loaded. */
        enter_mode(v, false, &v->guest->space);
    }

    /* The native 64-bit frame, as the CPU builds it: the stack aligned to
     * 16 bytes, then ss, rsp, rflags, cs, rip and perhaps an error code.
     * rflags carries the virtual IF (the event mask, inverted); the rest is
     * the interrupted code's (a frame a guest wrote, HV_CALL_IRET's or the
     * SMAP quirk's, was sanitised as it was taken). */
    uint64_t frame[6] = {
        f->error_code,
        f->rip,
        from_user ? HV_USER_CS : HV_KERNEL_CS,
        (f->rflags & ~RFLAGS_IF) | (shared->upcall_mask ? 0 : RFLAGS_IF),
        f->rsp,
        HV_DATA_SS,
    };
    unsigned skip = (how & DELIVER_ERROR_CODE) ? 0 : 1;
    uint64_t bytes = sizeof(frame) - skip * 8;
    sp = (sp & ~15ull) - bytes; /* wraps to the upper half when too low */
    if (!deliver_frame_fits(sp, bytes) || copy_to_space(&v->guest->space, sp, frame + skip, bytes) != 0)
        return deliver_stack_unwritable(v, how >> 8, sp);

    if (how & DELIVER_MASK_EVENTS)
        shared->upcall_mask = 1;
    f->rip = handler;
    f->rsp = sp;
    f->cs = HV_KERNEL_CS;
    f->ss = HV_DATA_SS;
    f->rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF);
    /* rcx and r11 are live here: the return must not be a sysret. */
    f->vector = VEC_GUEST_BOUNCE;
    v->arch.delivery = (struct last_delivery){handler, sp, how >> 8};
    return true;
}

/* The fetch of an instruction that starts at rip faults at an address
 * from rip to rip + 14 (x86 instructions are at most 15 bytes). */
#define MAX_INSN_BYTES 15

bool deliver_fetch_failed(struct vcpu *v, const struct trap_frame *f, uint64_t cr2)
{
    const struct last_delivery *d = &v->arch.delivery;
    if (!d->rip || f->rip != d->rip || f->rsp != d->rsp || v->arch.user_mode ||
        cr2 - f->rip >= MAX_INSN_BYTES)
        return false;
    fail(v, d->what, "the handler is not mapped executable at", d->rip);
    return true;
}

/* HV_CALL_IRET's two steps to guest user mode (its fast path in
 * vcpu/syscall_entry.S does both inline): the user space the return goes
 * to (none chosen, or gone: NULL, the frame is refused), a look-up without
 * effects; and the switch into it, once the return is certain. */
static const struct pt_space *iret_user_space(struct vcpu *v)
{
    if (v->arch.user_space == HV_SPACE_KERNEL)
        return NULL;
    return guest_space(v->guest, v->arch.user_space);
}

static void iret_enter_user(struct vcpu *v, const struct pt_space *user_space)
{
    enter_mode(v, true, user_space);
}

int64_t vcpu_iret(struct vcpu *v, struct trap_frame *f)
{
    struct guest *g = v->guest;
    struct hv_iret_frame fr;
    /* Only guest kernel mode can make hypercalls, so the frame is read from
     * the kernel's address space. */
    if (copy_from_space(&g->space, &fr, f->rsp, sizeof(fr)) != 0)
        return -HV_EFAULT;
    bool to_user = fr.cs == HV_USER_CS;
    if ((fr.cs != HV_KERNEL_CS && !to_user) || fr.ss != HV_DATA_SS || fr.flags != 0 ||
        fr.rip >= HV_GUEST_LOWER_HALF_END || fr.rsp >= HV_GUEST_LOWER_HALF_END)
        return -HV_EINVAL;
    const struct pt_space *user_space = NULL;
    if (to_user && !(user_space = iret_user_space(v)))
        return -HV_EINVAL;
    g->shared->vcpu[v->id].upcall_mask = (fr.rflags & RFLAGS_IF) ? 0 : 1;
    f->rcx = fr.rcx;
    f->r11 = fr.r11;
    f->rip = fr.rip;
    f->rsp = fr.rsp;
    /* Sanitised as taken, not only on the way out: an upcall entered on
     * this return writes them into its frame, which must never show flags
     * the guest cannot have (IOPL, NT, ...). */
    f->rflags = vcpu_sanitize_rflags(fr.rflags);
    f->cs = to_user ? HV_USER_CS : HV_KERNEL_CS;
    f->ss = HV_DATA_SS;
    f->vector = VEC_GUEST_BOUNCE; /* rcx and r11 are the frame's: iretq */
    v->arch.delivery.rip = 0;     /* the handler ran */
    if (to_user)
        iret_enter_user(v, user_space);
    return (int64_t)fr.rax;
}
