#include "vcpu/syscall.h"

#include "hv/cpu/gdt.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/x86.h"
#include "hv/hypercall/hypercall.h"
#include "hv/sched/sched.h"

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

void hypercall_entry(struct trap_frame *f)
{
    struct percpu *cpu = this_cpu();
    hypercall_dispatch(cpu->current, f);
    sched_return_to_guest(f);
    cpu->sysret_ok = f->vector == VEC_SYSCALL && f->rip < SYSRET_RIP_LIMIT;
}
