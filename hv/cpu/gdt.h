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

/* The GDT is a window of GDT_WINDOW_PAGES pages at a fixed place per CPU
 * (gdt_window_init), reaching Xen's flat selectors in its last page:
 *   page 0      this CPU's own page: hv's GDT_ENTRIES entries (the TSS
 *               descriptor is per CPU), the rest of the page zero;
 *   pages 1-13  one zero frame shared by every CPU (not-present entries;
 *               where Xen puts a guest's own descriptors, none yet);
 *   page 14     one frame shared by every CPU with Xen's flat descriptors
 *               (FIRST_RESERVED_GDT_PAGE in Xen's arch-x86/xen.h):
 *               0xe028 ring-3 data, 0xe030 ring-3 64-bit code, 0xe020
 *               (32-bit code) not present: no compat mode.
 * The shared pages are mapped read-only with the accessed bits preset, so
 * the CPU never writes them. A flat GDT to 0xe037 would be 57 KiB per CPU;
 * the window costs one page per CPU and two shared frames (docs/design.md). */
#define GDT_WINDOW_PAGES 15
#define GDT_XEN_PAGE 14
#define GDT_LIMIT 0xe037 /* the last byte of Xen's 0xe030 */
#define SEL_XEN_CODE32 0xe020 /* | 3: FLAT_RING3_CS32, not present */
#define SEL_XEN_DATA 0xe028   /* | 3: FLAT_RING3_DS32 / SS64 */
#define SEL_XEN_CODE64 0xe030 /* | 3: FLAT_RING3_CS64 */
/* Virtual stride between CPUs' windows: the window and one unmapped page. */
#define GDT_WINDOW_STRIDE ((GDT_WINDOW_PAGES + 1) * 4096ULL)
#define GDT_WINDOW_BASE 0xffffffff00000000ULL /* in PML4 slot 511, below the core */
#define GDT_WINDOW_MAX_CPUS 256

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
    uint64_t *gdt; /* page 0 of the window: GDT_ENTRIES used, a whole page */
    struct tss tss;
};

/* The template (hv/cpu/gdt_layout.c, pure): the one place descriptors are
 * defined. gdt_fill_hv writes hv's entries and this CPU's TSS descriptor
 * into a zeroed page; gdt_fill_xen_page writes Xen's flat descriptors into
 * a zeroed page (page GDT_XEN_PAGE of every window). */
void gdt_fill_hv(uint64_t page[512], uint64_t tss_base, uint32_t tss_limit);
void gdt_fill_xen_page(uint64_t page[512]);

/* Loads a GDT of hv's entries from gdt_page (a whole page the caller owns,
 * zeroed, page-aligned: the CPU's page 0 of its window), the TSS and the
 * segment registers. The limit covers hv's entries only until
 * gdt_window_init. */
void gdt_load(struct cpu_tables *t, uint64_t *gdt_page, const uint64_t ist_tops[IST_STACKS],
              uint64_t ring0_stack_top);

struct pt_space;
/* After mm_init, per CPU: maps the CPU's window (page 0 = its gdt page)
 * and reloads GDTR with the window's base and GDT_LIMIT. */
void gdt_window_init(struct cpu_tables *t, unsigned cpu_index);
/* Maps every CPU window made so far into s too (page-table isolation's
 * tables, hv/mm/xpti.c), and those of CPUs brought up later: the CPU reads
 * the GDT in the guest's tables. */
void gdt_window_show(struct pt_space *s);
#endif
