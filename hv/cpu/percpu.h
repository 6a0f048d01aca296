/* Per-CPU data, reached through GS while in the hypervisor. The boot CPU's
 * area is static; others will be allocated at bring-up, so nothing here may
 * assume it is the only CPU. The first fields are read by assembly
 * (hv/cpu/isr.S, vcpu/syscall_entry.S): their offsets are fixed below.
 *
 * struct percpu sits in the CPU's entry area (struct cpu_entry_area), which
 * page-table isolation maps into guests' tables too (hv/mm/xpti.c): the
 * entry paths use it before they switch to hv's tables. So a guest on a
 * Meltdown-affected CPU can read it: it MUST NOT keep any guest's data or
 * anything secret, only hv's bookkeeping (pointers, counters, CR3s; a
 * guest learns from them how busy hv and the CPU are). The two slots the
 * entry paths park a guest register in (scratch, user_rsp) are zeroed as
 * soon as the value is in the vCPU's frame (or, at an exit, in the CPU's
 * register). Accepted, as in Linux's entry area:
 * the entry stack keeps the last guest's return frame (RIP, CS, RFLAGS,
 * RSP, SS, vector, error code) until the next entry overwrites it, and an
 * IST stack what hv's C code left on it when an NMI, #DB or #MC hit hv
 * (a guest's registers are wiped off it). */
#pragma once

#include "hv/cpu/gdt.h"
#include "hv/cpu/idt.h"

#define PERCPU_KERNEL_RSP 8
#define PERCPU_USER_RSP 16
#define PERCPU_KERNEL_CR3 24
#define PERCPU_USER_CR3 32
#define PERCPU_USER_CR3_NEXT 40
#define PERCPU_SCRATCH 48
#define PERCPU_ENTRY_STACK_TOP 56
#define PERCPU_CR3_WRITES 64
#define PERCPU_CR3_NOFLUSH 72
#define PERCPU_FRAME 552 /* the last two fields */
#define PERCPU_STACK_TOP 560

#define ENTRY_STACK_SIZE 4096

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/debug/stats_cpu.h"
#include "hv/sched/sched_cpu.h"

struct vcpu;

typedef uint64_t percpu_u64_unaligned __attribute__((aligned(1)));

/* What the entry paths saw that they must not log on the spot (an NMI or
 * #DB can interrupt hv holding the log lock): counted here, reported by
 * entry_report() at the summary. */
struct entry_counts {
    uint64_t nmi_in_hv, nmi_in_guest;
    uint64_t db_in_hv;            /* #DB raised in hv context and dropped */
    uint64_t db_at_syscall_entry; /* ...of which before the syscall entry's stack switch */
    uint64_t ac_on_entry;         /* trap entries that reached C with RFLAGS.AC set */
    uint64_t uaccess_fixups;      /* faults on guest memory turned into -HV_EFAULT (hv/cpu/extable.h) */
    uint64_t iret_c_path;         /* HV_CALL_IRETs its fast path left to C (vcpu/iret_fast.h) */
};

struct trap_frame;

struct percpu {
    struct percpu *self;  /* gs:0, so this_cpu() is one load */
    /* The end of the running vCPU's own frame (arch.regs, vcpu/vcpu.h):
     * where an entry from its guest pushes its registers (TSS.RSP0 too,
     * without isolation; with it, the entry stack's copy goes there). Set
     * at every switch-in (percpu_frame_set). */
    uint64_t kernel_rsp;
    uint64_t user_rsp;    /* guest RSP while the syscall entry builds its frame */
    /* Page-table isolation (hv/mm/xpti.c; unused without it): the CR3 an
     * entry from the guest loads (hv's full tables of the loaded space),
     * the CR3 the exit loads (the guest's isolated tables), and what the
     * exit leaves in user_cr3 for the next one (with PCID: the same
     * without its flush, once a flush has been done). */
    uint64_t kernel_cr3;
    uint64_t user_cr3;
    uint64_t user_cr3_next;
    uint64_t scratch;         /* one register's worth while no other is free */
    uint64_t entry_stack_top; /* TSS.RSP0 with isolation: in the entry area */
    uint64_t cr3_writes;      /* by the entry and exit paths (make bench) */
    uint64_t cr3_noflush;     /* bit 63 with PCID (a CR3 write keeping the TLB), else 0 */
    struct vcpu *current; /* the vCPU running (or whose entry hv handles) */
    uint32_t index;       /* 0 for the boot CPU */
    uint32_t apic_id;
    uint64_t ticks;       /* local APIC timer interrupts taken */
    bool need_resched;    /* pick another vCPU before returning to a guest */
    /* A wake-up moved the slice's end earlier: the return re-arms the
     * timer (hv/sched/sched.c; the HV_CALL_IRET fast path tests it). The
     * one field another CPU sets: the boot CPU's, with the IPI, for its
     * reaper (hv/sched/cross_cpu.c sched_reaper_kick). */
    bool slice_cut;
    struct entry_counts entry;
    struct cpu_tables tables;
    /* After the fields vcpu/iret_fast.h names by offset. */
    uint64_t fast_gate;   /* the guest handler on this CPU's fast gate, 0: hv's (hv/cpu/idt.c) */
    /* The one-shot timer (hv/time/clock.c): the deadline asked for, when
     * the hardware will interrupt (UINT64_MAX: not armed, or not before
     * the deadline could matter), whether it has an interrupt programmed. */
    uint64_t timer_deadline, timer_hw_deadline;
    bool timer_hw_armed;
    /* The idle loop's timer path's advance (hv/sched/idle_timer.c), in ns:
     * a running estimate of its entry's and tests' time, at most a few us;
     * its idle loop arms a vCPU's deadline that much early. */
    uint32_t timer_advance;
    struct sched_cpu sched; /* hv/sched/sched_cpu.h */
    struct cpu_stats stats; /* the statistics line's counters (hv/debug/stats_cpu.h) */
    uint32_t locks_held;    /* lock levels this CPU holds (hv/cpu/lock_order.h) */
    /* FS_BASE and KERNEL_GS_BASE (a guest's FS and GS bases while hv
     * runs) may hold something other than 0: a Xen vCPU ran last. Then
     * the next vCPU's vcpu_load writes both (vcpu/vcpu.c). */
    bool guest_bases_set;
    /* The version of a Xen guest's own GDT entries page 0 of this CPU's
     * GDT window holds (0: none; hv/xen/xen_gdt.c, vcpu/vcpu.c). */
    uint64_t gdt_version;
    /* Where a switch-in writes the frame's end besides kernel_rsp: TSS.RSP0
     * (4-byte aligned in the packed TSS), or kernel_rsp itself with
     * isolation, whose TSS.RSP0 stays the entry stack. */
    percpu_u64_unaligned *rsp0_slot;
    /* Read by the entry paths (PERCPU_FRAME, PERCPU_STACK_TOP): last, so
     * that no field before them moved (their shorter encodings kept). */
    struct trap_frame *frame; /* the running vCPU's frame: kernel_rsp - its size */
    uint64_t stack_top;       /* hv's stack on this CPU: C code of a guest entry starts here */
};

_Static_assert(offsetof(struct percpu, kernel_rsp) == PERCPU_KERNEL_RSP, "asm offset");
_Static_assert(offsetof(struct percpu, user_rsp) == PERCPU_USER_RSP, "asm offset");
_Static_assert(offsetof(struct percpu, kernel_cr3) == PERCPU_KERNEL_CR3, "asm offset");
_Static_assert(offsetof(struct percpu, user_cr3) == PERCPU_USER_CR3, "asm offset");
_Static_assert(offsetof(struct percpu, user_cr3_next) == PERCPU_USER_CR3_NEXT, "asm offset");
_Static_assert(offsetof(struct percpu, scratch) == PERCPU_SCRATCH, "asm offset");
_Static_assert(offsetof(struct percpu, entry_stack_top) == PERCPU_ENTRY_STACK_TOP, "asm offset");
_Static_assert(offsetof(struct percpu, cr3_writes) == PERCPU_CR3_WRITES, "asm offset");
_Static_assert(offsetof(struct percpu, cr3_noflush) == PERCPU_CR3_NOFLUSH, "asm offset");
_Static_assert(offsetof(struct percpu, frame) == PERCPU_FRAME, "asm offset");
_Static_assert(offsetof(struct percpu, stack_top) == PERCPU_STACK_TOP, "asm offset");

/* One CPU's entry area: its per-CPU data (GDT and TSS included), the
 * small stack a guest entry lands on when isolation is on, its IDT and its
 * GDT's own page (the rest of the GDT window is shared), page-aligned so
 * it can be mapped into guests' tables on its own. */
struct cpu_entry_area {
    struct percpu cpu;
    uint8_t entry_stack[ENTRY_STACK_SIZE] __attribute__((aligned(4096)));
    struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(4096)));
    uint64_t gdt_page[512] __attribute__((aligned(4096))); /* page 0 of the CPU's GDT window (hv/cpu/gdt.h) */
} __attribute__((aligned(4096)));

_Static_assert(sizeof(struct percpu) <= 4096, "per-CPU data fits the entry area's first page");

/* Every CPU's area by index (0: the boot CPU), set as each is initialised:
 * for what one CPU must do to another's (a wake-up, a summary). */
#define PERCPU_MAX 65 /* the boot CPU and SMP_MAX_CPUS APs (hv/cpu/smp_rules.h) */
extern struct percpu *percpu_by_index[PERCPU_MAX];
extern uint32_t percpu_count; /* entries of percpu_by_index set */
/* An AP that checked in ready takes the next index (hv/cpu/smp.c). */
void percpu_register(struct percpu *cpu);

void percpu_init_boot_cpu(void);
/* An AP's area (allocated by hv/cpu/smp.c): GDT and TSS copied from the
 * boot CPU's, its stacks, GS_BASE, the IDT copy; on the AP itself. */
void percpu_init_ap(struct cpu_entry_area *area, uint32_t index, uint32_t apic_id,
                    const uint64_t ist_tops[IST_STACKS], uint64_t kernel_rsp);
/* Inline: the switch path reaches the CPU's IDT through it. */
static inline struct cpu_entry_area *percpu_entry_area(struct percpu *cpu)
{
    return (struct cpu_entry_area *)((uintptr_t)cpu - offsetof(struct cpu_entry_area, cpu));
}

/* TSS.RSP0, at byte 4 of the packed TSS. */
static inline percpu_u64_unaligned *percpu_tss_rsp0(struct percpu *cpu)
{
    return (percpu_u64_unaligned *)((char *)&cpu->tables.tss + offsetof(struct tss, rsp));
}

/* Not volatile: a CPU's area never changes once GS_BASE is set (hv code
 * never moves between CPUs: each has its own stacks), so the compiler may
 * keep one reading for a whole function. Only percpu.c sets GS_BASE, and
 * it never calls this. (Not GCC's __seg_gs either: the compiler takes that
 * address space and plain pointers as never aliasing, and a field written
 * one way and read the other came back stale: vCPU timers were lost.) */
static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__("mov %%gs:0, %0" : "=r"(p));
    return p;
}
#endif
