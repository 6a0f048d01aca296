/* The real-mode trampoline's data block (hv/cpu/smp_trampoline.S), filled
 * by hv/cpu/smp.c in the low page before each SIPI. Offsets are shared
 * with the assembly. */
#pragma once

#define TR_GDTR 0       /* limit (2 bytes), base (4): the trampoline's GDT */
#define TR_GDT 8        /* null, 32-bit code, 32-bit data, 64-bit code */
#define TR_FAR32 40     /* offset (4), selector (2): protected mode entry */
#define TR_FAR64 48     /* offset (4), selector (2): long mode entry */
#define TR_LOW_CR3 56   /* the temporary root below 4 GiB */
#define TR_CR0 60       /* the boot CPU's CR0 (paging on) */
#define TR_EFER 64      /* EFER bits to set: LME, NXE */
#define TR_STATUS 68    /* written by a CPU that stops in the trampoline */
#define TR_HV_CR3 72    /* hv's own root */
#define TR_STACK 80     /* the AP's stack top (hv address) */
#define TR_ENTRY 88     /* smp_ap_entry */
#define TR_ARG 96       /* its struct ap_boot */
#define TR_APIC_ID 104  /* the APIC ID of the CPU this start is for; TR_CLAIMED, TR_REVOKED */
#define TR_LATE 108     /* CPUs that came for a start not theirs: parked */
#define TR_SIZE 112

#define TR_SEL_CODE32 0x08
#define TR_SEL_DATA32 0x10
#define TR_SEL_CODE64 0x18

#define TR_CLAIMED 0xfffffffe /* the AP took the start */
#define TR_REVOKED 0xffffffff /* the boot CPU gave up first: no CPU takes it */

#define TR_STATUS_NONE 0
#define TR_STATUS_NO_LONG_MODE 1
#define TR_STATUS_NO_NX 2

#ifndef __ASSEMBLER__
#include <stdint.h>

struct trampoline_data {
    uint16_t gdt_limit;
    uint32_t gdt_base;
    uint16_t pad0;
    uint64_t gdt[4];
    uint32_t far32_offset;
    uint16_t far32_selector;
    uint16_t pad1;
    uint32_t far64_offset;
    uint16_t far64_selector;
    uint16_t pad2;
    uint32_t low_cr3;
    uint32_t cr0;
    uint32_t efer;
    volatile uint32_t status;
    uint64_t hv_cr3;
    uint64_t stack;
    uint64_t entry;
    uint64_t arg;
    uint32_t apic_id;
    volatile uint32_t late;
} __attribute__((packed));

_Static_assert(__builtin_offsetof(struct trampoline_data, gdt) == TR_GDT, "asm offset");
_Static_assert(__builtin_offsetof(struct trampoline_data, far32_offset) == TR_FAR32, "asm offset");
_Static_assert(__builtin_offsetof(struct trampoline_data, far64_offset) == TR_FAR64, "asm offset");
_Static_assert(__builtin_offsetof(struct trampoline_data, low_cr3) == TR_LOW_CR3, "asm offset");
_Static_assert(__builtin_offsetof(struct trampoline_data, status) == TR_STATUS, "asm offset");
_Static_assert(__builtin_offsetof(struct trampoline_data, hv_cr3) == TR_HV_CR3, "asm offset");
_Static_assert(__builtin_offsetof(struct trampoline_data, arg) == TR_ARG, "asm offset");
_Static_assert(__builtin_offsetof(struct trampoline_data, apic_id) == TR_APIC_ID, "asm offset");
_Static_assert(__builtin_offsetof(struct trampoline_data, late) == TR_LATE, "asm offset");
_Static_assert(sizeof(struct trampoline_data) == TR_SIZE, "asm size");

/* The trampoline's code and data, copied to the low page. */
void smp_ap_entry(void);
extern const char smp_trampoline_start[], smp_trampoline_data[], smp_trampoline_end[],
    smp_trampoline_protected[], smp_trampoline_long[];
#endif
