/* Changing the IDT while guests run. */
#pragma once

#include <stdint.h>

/* The direct system-call gate (HV_FAST_TRAP_VECTOR) for the vCPU about to
 * run: a DPL-3 trap gate into its ring-3 handler (the CPU enters it without
 * hv, and a trap gate leaves IF set), or, with 0, hv's own gate back, so
 * `int` on that vector faults to hv as any other. */
void idt_set_fast_gate(uint64_t guest_handler);
