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

struct percpu *percpu_by_index[PERCPU_MAX];
uint32_t percpu_count;

static void gs_base_set(struct percpu *cpu)
{
    /* GS_BASE is ours while in the hypervisor; KERNEL_GS_BASE holds the
     * guest's across swapgs once guests run. */
    wrmsr(MSR_GS_BASE, (uint64_t)cpu);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    wrmsr(MSR_FS_BASE, 0); /* a null FS selector load may keep the firmware's */
}

void percpu_init_ap(struct cpu_entry_area *area, uint32_t index, uint32_t apic_id,
                    const uint64_t ist_tops[IST_STACKS], uint64_t kernel_rsp)
{
    struct percpu *cpu = &area->cpu;
    cpu->self = cpu;
    cpu->index = index;
    cpu->apic_id = apic_id;
    cpu->kernel_rsp = cpu->stack_top = kernel_rsp;
    cpu->timer_hw_deadline = UINT64_MAX;
    cpu->entry_stack_top = (uint64_t)(area->entry_stack + ENTRY_STACK_SIZE);
    /* With isolation a guest entry lands on the entry stack (hv/mm/xpti.c). */
    uint64_t rsp0 = entry_flags & ENTRY_XPTI ? cpu->entry_stack_top : kernel_rsp;
    cpu->rsp0_slot = entry_flags & ENTRY_XPTI ? &cpu->kernel_rsp : percpu_tss_rsp0(cpu);
    /* hv's descriptors from the one template (hv/cpu/gdt_layout.c), this
     * CPU's own TSS. Its GDT window (Xen's selectors beside hv's) comes
     * once it passed its checks (smp_ap_main): a refused AP's window
     * would stay mapped at the CPU index the next AP is given. */
    gdt_load(&cpu->tables, area->gdt_page, ist_tops, rsp0);
    gs_base_set(cpu);
    cpu->kernel_cr3 = read_cr3();
    cpu->cr3_noflush = boot_area.cpu.cr3_noflush;
    idt_load_copy(area->idt);
}

void percpu_register(struct percpu *cpu)
{
    if (cpu->index != percpu_count || percpu_count >= PERCPU_MAX)
        return;
    percpu_by_index[percpu_count] = cpu;
    __atomic_store_n(&percpu_count, percpu_count + 1, __ATOMIC_RELEASE);
}

void percpu_init_boot_cpu(void)
{
    struct percpu *cpu = &boot_area.cpu;
    cpu->self = cpu;
    cpu->index = 0;
    cpu->timer_hw_deadline = UINT64_MAX;
    percpu_by_index[0] = cpu;
    percpu_count = 1;
    const uint64_t ist[IST_STACKS] = {(uint64_t)__ist1_top, (uint64_t)__ist2_top,
                                      (uint64_t)__ist3_top, (uint64_t)__ist4_top};
    cpu->kernel_rsp = cpu->stack_top = (uint64_t)__kstack_top;
    cpu->rsp0_slot = percpu_tss_rsp0(cpu); /* xpti_init: kernel_rsp with isolation */
    cpu->entry_stack_top = (uint64_t)(boot_area.entry_stack + ENTRY_STACK_SIZE);
    gdt_load(&cpu->tables, boot_area.gdt_page, ist, cpu->kernel_rsp);
    gs_base_set(cpu);
    idt_init();
}
