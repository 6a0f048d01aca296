/* Segments: the GDT, the TSS and the IDT of one CPU.
 *
 * Selector layout is fixed by SYSCALL/SYSRET: STAR puts the kernel code
 * selector at 0x08 with kernel data right after it, and 64-bit SYSRET takes
 * user data at STAR[63:48] + 8 and user code at STAR[63:48] + 16. */
#pragma once


#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#define SEL_USER_DATA (0x18 | 3)
#define SEL_USER_CODE (0x20 | 3)       /* ring 3: a guest in guest kernel mode */
#define SEL_TSS 0x28
#define SEL_GUEST_USER_CODE (0x38 | 3) /* ring 3 too: a guest in guest user mode */

/* null, kcode, kdata, udata, ucode, tss (two slots), guest-user code */
#define GDT_ENTRIES 8

/* Interrupt stack table slots: faults that must not trust the current stack
 * get a known-good one of their own. #DB is among them because it can be
 * raised at CPL 0 on the first instruction of the syscall entry, before
 * that switches away from the guest's stack (a single-step or breakpoint
 * deferred by MOV SS, CVE-2018-8897): without IST its frame would be
 * pushed wherever the guest pointed RSP. */
#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3
#define IST_DEBUG 4
#define IST_STACKS 4

#ifndef __ASSEMBLER__
#include <stdint.h>

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

struct cpu_tables {
    uint64_t gdt[GDT_ENTRIES];
    struct tss tss;
};

/* The boot CPU's tables, built and loaded: the template of every AP's. */
void gdt_load(struct cpu_tables *t, const uint64_t ist_tops[IST_STACKS], uint64_t ring0_stack_top);
/* An AP's: the boot CPU's GDT copied whole (whatever segments it grows),
 * its own TSS and stacks; loaded on the calling CPU. */
void gdt_load_copy(struct cpu_tables *t, const struct cpu_tables *boot,
                   const uint64_t ist_tops[IST_STACKS], uint64_t ring0_stack_top);
#endif
