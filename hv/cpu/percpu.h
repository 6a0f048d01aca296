/* Per-CPU data, reached through GS while in the hypervisor. The boot CPU's
 * area is static; others will be allocated at bring-up, so nothing here may
 * assume it is the only CPU. */
#pragma once

#include <stdint.h>

#include "hv/cpu/gdt.h"

struct percpu {
    struct percpu *self; /* gs:0, so this_cpu() is one load */
    uint32_t index;      /* 0 for the boot CPU */
    uint32_t apic_id;
    uint64_t ticks;      /* local APIC timer interrupts taken */
    struct cpu_tables tables;
};

void percpu_init_boot_cpu(void);

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}
