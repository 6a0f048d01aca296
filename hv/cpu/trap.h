/* What every interrupt and exception entry saves, and how vectors are
 * dispatched. The layout matches hv/cpu/isr.S. */
#pragma once

#include <stdint.h>

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    /* pushed by the CPU */
    uint64_t rip, cs, rflags, rsp, ss;
};

enum {
    VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5, VEC_UD = 6,
    VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12, VEC_GP = 13, VEC_PF = 14,
    VEC_MF = 16, VEC_AC = 17, VEC_MC = 18, VEC_XM = 19, VEC_VE = 20, VEC_CP = 21,
};

/* Interrupt vectors hv owns (32..255; exceptions are below). */
#define VEC_TIMER 0x30
#define VEC_SPURIOUS 0xff
/* Not hardware vectors: what a trap frame was made by, when not an
 * interrupt or exception. Frames made by `syscall` may return with sysret. */
#define VEC_SYSCALL 0x100
#define VEC_GUEST_START 0x101
#define VEC_GUEST_BOUNCE 0x102 /* hv rewrote the frame for a guest handler */
#define VEC_COMPAT_SYSCALL 0x103 /* `syscall` in compatibility mode (vcpu/compat_syscall_entry.S) */

typedef void (*irq_handler)(struct trap_frame *f);

void idt_init(void);
void idt_load(void);
void irq_register(uint8_t vector, irq_handler h);
const char *exception_name(uint64_t vector);
const char *exception_mnemonic(uint64_t vector);

void trap_dispatch(struct trap_frame *f);
/* One log line: what the entry paths counted instead of logging (NMIs,
 * #DB in hv, entries that reached C with RFLAGS.AC set). */
void entry_report(void);
/* hv.cfg debug_syscall_breakpoint: see hv/cpu/trap.c. */
void debug_syscall_breakpoint(void);
/* This CPU's DR0/DR7: the breakpoint above if it is on, else none. */
void debug_registers_this_cpu(void);
