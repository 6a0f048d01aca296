/* The interrupt descriptor table: every vector gets a stub (hv/cpu/isr.S),
 * exceptions and interrupts alike, so no vector can reach an empty gate. */
#include "hv/cpu/idt.h"

#include "hv/cpu/gdt.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/trap.h"
#include "include/hv/abi.h"

#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */
/* int3 from ring 3 must raise #BP, as on bare metal, not a #GP for the
 * gate's privilege: its gate alone is open to ring 3. */
#define GATE_INTERRUPT_DPL3 0xee
#define GATE_TRAP_DPL3 0xef /* present, DPL 3, 64-bit trap gate: IF stays set */
#define ISR_STUB_SIZE 16

extern const char isr_stubs[];

/* Each CPU's IDT is in its entry area: the CPU reads it while on a
 * guest's isolated tables (hv/hv.ld, hv/mm/xpti.c). The boot CPU's is the
 * template the APs copy. */
static struct idt_gate *boot_idt;
static irq_handler irq_handlers[256];

static inline __attribute__((always_inline)) void set_gate(struct idt_gate *idt, unsigned vector,
                                                           uint64_t handler, uint8_t ist,
                                                           uint8_t type_attr)
{
    idt[vector] = (struct idt_gate){
        .offset_lo = (uint16_t)handler,
        .selector = SEL_KERNEL_CODE,
        .ist = ist,
        .type_attr = type_attr,
        .offset_mid = (uint16_t)(handler >> 16),
        .offset_hi = (uint32_t)(handler >> 32),
    };
}

static void load(const struct idt_gate *idt)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = {IDT_VECTORS * sizeof(struct idt_gate) - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

static void set_hv_fast_gate(struct idt_gate *idt)
{
    set_gate(idt, HV_FAST_TRAP_VECTOR,
             (uint64_t)(isr_stubs + HV_FAST_TRAP_VECTOR * ISR_STUB_SIZE), 0, GATE_INTERRUPT);
}

void idt_init(void)
{
    struct idt_gate *idt = percpu_entry_area(this_cpu())->idt;
    boot_idt = idt;
    for (unsigned v = 0; v < 256; v++) {
        uint8_t ist = 0;
        if (v == VEC_DF)
            ist = IST_DOUBLE_FAULT;
        else if (v == VEC_NMI)
            ist = IST_NMI;
        else if (v == VEC_MC)
            ist = IST_MACHINE_CHECK;
        else if (v == VEC_DB)
            ist = IST_DEBUG;
        /* #BP needs no IST: it is raised only by int3 itself, never
         * deferred onto a later instruction as #DB can be, and hv has no
         * int3 in its syscall window (or anywhere): from ring 3 the CPU
         * switches to TSS.RSP0 as for any other gate, so no #BP ever runs
         * on a stack the guest chose. */
        set_gate(idt, v, (uint64_t)(isr_stubs + v * ISR_STUB_SIZE), ist,
                 v == VEC_BP ? GATE_INTERRUPT_DPL3 : GATE_INTERRUPT);
    }
    load(idt);
}

void idt_load(void)
{
    load(percpu_entry_area(this_cpu())->idt);
}

void idt_load_copy(struct idt_gate *idt)
{
    for (unsigned v = 0; v < IDT_VECTORS; v++)
        idt[v] = boot_idt[v];
    set_hv_fast_gate(idt);
    load(idt);
}

void idt_set_fast_gate(uint64_t guest_handler)
{
    struct percpu *cpu = this_cpu();
    if (guest_handler == cpu->fast_gate)
        return;
    cpu->fast_gate = guest_handler;
    struct idt_gate *idt = percpu_entry_area(cpu)->idt;
    if (guest_handler) {
        /* Target selector: the guest's ring-3 code segment, so the CPU stays
         * at ring 3, on the guest's stack, and hv is never entered. */
        set_gate(idt, HV_FAST_TRAP_VECTOR, guest_handler, 0, GATE_TRAP_DPL3);
        idt[HV_FAST_TRAP_VECTOR].selector = SEL_USER_CODE;
    } else {
        set_hv_fast_gate(idt);
    }
}

void irq_register(uint8_t vector, irq_handler h)
{
    irq_handlers[vector] = h;
}

irq_handler irq_handler_for(uint8_t vector)
{
    return irq_handlers[vector];
}
