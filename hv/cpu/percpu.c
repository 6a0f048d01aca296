#include "hv/cpu/percpu.h"

#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"

extern const char __kstack_top[], __ist1_top[], __ist2_top[], __ist3_top[], __ist4_top[];

static struct percpu boot_cpu;

void percpu_init_boot_cpu(void)
{
    boot_cpu.self = &boot_cpu;
    boot_cpu.index = 0;
    const uint64_t ist[IST_STACKS] = {(uint64_t)__ist1_top, (uint64_t)__ist2_top,
                                      (uint64_t)__ist3_top, (uint64_t)__ist4_top};
    boot_cpu.kernel_rsp = (uint64_t)__kstack_top;
    gdt_load(&boot_cpu.tables, ist, boot_cpu.kernel_rsp);
    /* GS_BASE is ours while in the hypervisor; KERNEL_GS_BASE holds the
     * guest's across swapgs once guests run. */
    wrmsr(MSR_GS_BASE, (uint64_t)&boot_cpu);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    idt_init();
}
