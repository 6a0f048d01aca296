/* Per-CPU data, reached through GS while in the hypervisor. The boot CPU's
 * area is static; others will be allocated at bring-up, so nothing here may
 * assume it is the only CPU. The first fields are read by assembly
 * (vcpu/syscall_entry.S): their offsets are fixed below. */
#pragma once

#include "hv/cpu/gdt.h"

#define PERCPU_KERNEL_RSP 8
#define PERCPU_USER_RSP 16
#define PERCPU_SYSRET_OK 24

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vcpu;

/* What the entry paths saw that they must not log on the spot (an NMI or
 * #DB can interrupt hv holding the log lock): counted here, reported by
 * entry_report() at the summary. */
struct entry_counts {
    uint64_t nmi_in_hv, nmi_in_guest;
    uint64_t db_in_hv;            /* #DB raised in hv context and dropped */
    uint64_t db_at_syscall_entry; /* ...of which before the syscall entry's stack switch */
    uint64_t ac_on_entry;         /* trap entries that reached C with RFLAGS.AC set */
};

struct percpu {
    struct percpu *self;  /* gs:0, so this_cpu() is one load */
    uint64_t kernel_rsp;  /* top of the stack hv uses for guest entries */
    uint64_t user_rsp;    /* guest RSP while the syscall entry builds its frame */
    uint64_t sysret_ok;   /* set by C: the syscall may return with sysret */
    struct vcpu *current; /* the vCPU whose state is on the kernel stack */
    uint32_t index;       /* 0 for the boot CPU */
    uint32_t apic_id;
    uint64_t ticks;       /* local APIC timer interrupts taken */
    bool need_resched;    /* pick another vCPU before returning to a guest */
    struct entry_counts entry;
    struct cpu_tables tables;
};

_Static_assert(offsetof(struct percpu, kernel_rsp) == PERCPU_KERNEL_RSP, "asm offset");
_Static_assert(offsetof(struct percpu, user_rsp) == PERCPU_USER_RSP, "asm offset");
_Static_assert(offsetof(struct percpu, sysret_ok) == PERCPU_SYSRET_OK, "asm offset");

void percpu_init_boot_cpu(void);

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}
#endif
