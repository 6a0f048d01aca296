#include "vcpu/syscall.h"

#include "hv/console/log.h"
#include "hv/cpu/gdt.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/x86.h"
#include "hv/hypercall/hypercall.h"
#include "hv/guest/guest.h"
#include "hv/sched/sched.h"
#include "hv/sched/sched_return.h"
#include "hv/xen/xen.h"
#include "vcpu/deliver.h"
#include "vcpu/vcpu.h"

void syscall_entry(void);
void compat_syscall_entry(void);

/* The frame offsets the exit reads (vcpu/syscall_entry.S). */
_Static_assert(__builtin_offsetof(struct trap_frame, vector) == 15 * 8, "FRAME_VECTOR");
_Static_assert(__builtin_offsetof(struct trap_frame, rip) == 17 * 8, "FRAME_RIP");

/* Flags the CPU clears on syscall: TF, IF, DF, IOPL, NT, AC. */
#define FMASK_BITS 0x47700ULL

void syscall_init(void)
{
    /* STAR: kernel CS at [47:32] (SS = CS + 8); for 64-bit sysret, user
     * SS = [63:48] + 8 and user CS = [63:48] + 16. */
    wrmsr(MSR_STAR, ((uint64_t)(SEL_KERNEL_DATA) << 48) | ((uint64_t)SEL_KERNEL_CODE << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    /* Never left at the firmware's value (vcpu/compat_syscall_entry.S). */
    wrmsr(MSR_CSTAR, (uint64_t)compat_syscall_entry);
    /* Read back, so the log (and tests/system/xen_cases.py) says what the
     * CPU holds, not what hv meant to write. Debug level: a line on the
     * screen costs boot time (~150 instructions a character). */
    log_debug("syscall: MSR_CSTAR 0x%lx: a compat-mode syscall ends the guest",
             (unsigned long)rdmsr(MSR_CSTAR));
    wrmsr(MSR_FMASK, FMASK_BITS);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

/* `syscall` in guest user mode is the application's system call, for the
 * guest kernel: applications never reach hv's hypercalls. The C path of
 * vcpu/deliver_fast.S syscall_bounce (tracing, a handler or kernel stack
 * not registered, make bench's timed entry). */
static void bounce_to_guest_kernel(struct vcpu *v, struct trap_frame *f)
{
    if (!v->arch.syscall_handler) {
        guest_end(v->guest, GUEST_FAULTED, -1,
                  "system call from guest user mode with no handler registered");
        return;
    }
    deliver_to_kernel(v, f, v->arch.syscall_handler,
                      DELIVER_WHAT(DELIVERY_SYSCALL) |
                          ((v->arch.syscall_flags & HV_SYSCALL_MASK_EVENTS) ? DELIVER_MASK_EVENTS
                                                                             : 0));
}

/* What compat_syscall_entry calls: no guest runs 32-bit code on hv, so one
 * that got there (a descriptor hv did not mean to give) is ended. */
void compat_syscall_end_guest(struct trap_frame *f);
void compat_syscall_end_guest(struct trap_frame *f)
{
    struct vcpu *v = this_cpu()->current;
    guest_end(v->guest, GUEST_FAULTED, -1,
              "32-bit system call (MSR_CSTAR): not supported");
    sched_return_inline(f);
}

/* How the return leaves (sysret or iretq) is the entry's decision, from
 * the frame as C leaves it (vcpu/syscall_entry.S). */
/* noinline: hypercall_entry's kernel-mode case is a jump here, not a copy. */
__attribute__((noinline)) void hypercall_kernel(struct trap_frame *f)
{
    struct vcpu *v = this_cpu()->current;
    v->arch.hv_entries++;
    hypercall_dispatch(v, f);
    sched_return_inline(f);
}

void hypercall_entry(struct trap_frame *f)
{
    struct vcpu *v = this_cpu()->current;
    /* user_mode and xen are adjacent bytes (vcpu/iret_fast.c asserts it). */
    uint16_t unusual;
    __builtin_memcpy(&unusual, &v->arch.user_mode, sizeof(unusual));
    if (!unusual) {
        hypercall_kernel(f);
        return;
    }
    v->arch.hv_entries++;
    if (!v->arch.xen) /* user mode of one of hv's own guests (syscall_bounce's C path) */
        bounce_to_guest_kernel(v, f);
    else if (v->arch.user_mode) /* Xen personality hooks: its syscall callback, */
        xen_syscall_from_user(v, f);
    else
        xen_hypercall(v, f); /* its own hypercall table */
    sched_return_to_guest(f); /* sched_return_inline, out of line: not the hot path */
}
