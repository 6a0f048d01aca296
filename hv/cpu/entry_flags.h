/* The switches the guest entry and exit paths test (hv/cpu/isr.S,
 * vcpu/syscall_entry.S): one byte, so the path with every mitigation off
 * pays one test and one untaken branch per entry and per exit. Set once at
 * boot (xpti_init) from the mitigation decisions (hv/cpu/mitigations.h).
 * The byte lives with the IDT on pages page-table isolation maps into
 * guests' tables, as the entry paths read it before switching CR3. */
#pragma once

#define ENTRY_XPTI 1         /* switch CR3 on entry and exit */
#define ENTRY_VERW 2         /* VERW (clear CPU buffers) before returning to a guest */
#define ENTRY_CLEAR_REGS 4   /* zero the guest's registers before C code runs */
#define ENTRY_SWAPGS_FENCE 8 /* lfence after the interrupt entry's conditional swapgs */
/* hv.cfg `trace = yes` (hv/debug/trace.h): an asm fast path that skips C
 * (HV_CALL_IRET's) must take the C path, where the trace points are, so a
 * traced run records every hypercall. Not a mitigation: in neither mask
 * below, never patched by entry_patch_apply. */
#define ENTRY_TRACE 16

#define ENTRY_ON_ENTRY (ENTRY_XPTI | ENTRY_CLEAR_REGS | ENTRY_SWAPGS_FENCE)
#define ENTRY_ON_EXIT (ENTRY_XPTI | ENTRY_VERW)

#ifndef __ASSEMBLER__
#include <stdint.h>

extern uint8_t entry_flags;
extern uint8_t cpu_entry_clac; /* 1 once SMAP is on: the stubs' clac */
extern uint16_t entry_verw_selector; /* VERW's operand: a writable data selector */
#endif
