#include "hv/cpu/percpu.h"

#include "hv/cpu/entry_flags.h"
#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"

extern const char __kstack_top[], __ist1_top[], __ist2_top[], __ist3_top[], __ist4_top[];

/* The entry area's section is page-aligned and mapped whole into guests'
 * tables under isolation (hv/hv.ld, hv/mm/xpti.c). */
#define ENTRY_AREA_DATA __attribute__((section(".bss.entry_area")))

static struct cpu_entry_area boot_area ENTRY_AREA_DATA;
uint8_t entry_flags ENTRY_AREA_DATA;
uint8_t cpu_entry_clac ENTRY_AREA_DATA;
uint16_t entry_verw_selector ENTRY_AREA_DATA;

struct cpu_entry_area *percpu_entry_area(struct percpu *cpu)
{
    return (struct cpu_entry_area *)((uintptr_t)cpu - offsetof(struct cpu_entry_area, cpu));
}

void percpu_init_boot_cpu(void)
{
    struct percpu *cpu = &boot_area.cpu;
    cpu->self = cpu;
    cpu->index = 0;
    const uint64_t ist[IST_STACKS] = {(uint64_t)__ist1_top, (uint64_t)__ist2_top,
                                      (uint64_t)__ist3_top, (uint64_t)__ist4_top};
    cpu->kernel_rsp = (uint64_t)__kstack_top;
    cpu->entry_stack_top = (uint64_t)(boot_area.entry_stack + ENTRY_STACK_SIZE);
    gdt_load(&cpu->tables, boot_area.gdt_page, ist, cpu->kernel_rsp);
    /* GS_BASE is ours while in the hypervisor; KERNEL_GS_BASE holds the
     * guest's across swapgs once guests run. */
    wrmsr(MSR_GS_BASE, (uint64_t)cpu);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    idt_init();
}
