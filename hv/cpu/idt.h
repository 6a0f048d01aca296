/* The IDT: one per CPU, in its entry area (hv/cpu/percpu.h), so the fast
 * system-call gate of the vCPU a CPU runs is that CPU's alone. */
#pragma once

#define IDT_VECTORS 256

#ifndef __ASSEMBLER__
#include <stdint.h>

struct idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
} __attribute__((packed));

/* An AP's IDT: a copy of the boot CPU's (the template idt_init built),
 * with hv's own gate on the fast vector; loaded on the calling CPU. */
void idt_load_copy(struct idt_gate *idt);

/* The direct system-call gate (HV_FAST_TRAP_VECTOR) for the vCPU about to
 * run: a DPL-3 trap gate into its ring-3 handler (the CPU enters it without
 * hv, and a trap gate leaves IF set), or, with 0, hv's own gate back, so
 * `int` on that vector faults to hv as any other. */
void idt_set_fast_gate(uint64_t guest_handler);
#endif
