#include "vcpu/syscall.h"

#include "hv/cpu/gdt.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/x86.h"
#include "hv/hypercall/hypercall.h"
#include "hv/guest/guest.h"
#include "hv/sched/sched.h"
#include "vcpu/deliver.h"
#include "vcpu/vcpu.h"

void syscall_entry(void);

/* Highest RIP sysret may return to: below the last page of the lower half,
 * which guests never map. A non-canonical RIP would fault in ring 0 on
 * Intel CPUs with the guest's RSP (CVE-2012-0217); iretq handles it safely. */
#define SYSRET_RIP_LIMIT 0x00007ffffffff000ULL

/* Flags the CPU clears on syscall: TF, IF, DF, IOPL, NT, AC. */
#define FMASK_BITS 0x47700ULL

void syscall_init(void)
{
    /* STAR: kernel CS at [47:32] (SS = CS + 8); for 64-bit sysret, user
     * SS = [63:48] + 8 and user CS = [63:48] + 16. */
    wrmsr(MSR_STAR, ((uint64_t)(SEL_KERNEL_DATA) << 48) | ((uint64_t)SEL_KERNEL_CODE << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_FMASK, FMASK_BITS);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

/* `syscall` in guest user mode is the application's system call, for the
 * guest kernel: applications never reach hv's hypercalls. */
static void bounce_to_guest_kernel(struct vcpu *v, struct trap_frame *f)
{
    if (!v->arch.syscall_handler) {
        guest_end(v->guest, GUEST_FAULTED, -1,
                  "system call from guest user mode with no handler registered");
        return;
    }
    deliver_to_kernel(v, f, v->arch.syscall_handler,
                      v->arch.syscall_flags & HV_SYSCALL_MASK_EVENTS, false, 0, "a system call");
}

void hypercall_entry(struct trap_frame *f)
{
    struct percpu *cpu = this_cpu();
    struct vcpu *v = cpu->current;
    v->arch.hv_entries++;
    if (v->arch.user_mode)
        bounce_to_guest_kernel(v, f);
    else
        hypercall_dispatch(v, f);
    sched_return_to_guest(f);
    cpu->sysret_ok = f->vector == VEC_SYSCALL && f->rip < SYSRET_RIP_LIMIT;
}
