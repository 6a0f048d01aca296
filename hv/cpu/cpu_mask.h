/* Sets of CPUs by index (bit i = CPU i; hv runs at most SMP_MAX_CPUS = 64):
 * which CPUs have an address space loaded (struct pt_space's cpus_loaded),
 * which ones a TLB shootdown waits for. Pure, host-tested. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t cpu_mask_t;

#define CPU_MASK_MAX 64

static inline cpu_mask_t cpu_mask_of(uint32_t index)
{
    return index < CPU_MASK_MAX ? 1ULL << index : 0;
}

/* The CPUs of `loaded` other than `self`: whom a change must reach. */
static inline cpu_mask_t cpu_mask_others(cpu_mask_t loaded, uint32_t self)
{
    return loaded & ~cpu_mask_of(self);
}

static inline uint32_t cpu_mask_count(cpu_mask_t m)
{
    return (uint32_t)__builtin_popcountll(m);
}

/* Takes the lowest CPU out of *m and returns its index; *m must not be 0. */
static inline uint32_t cpu_mask_pop(cpu_mask_t *m)
{
    uint32_t i = (uint32_t)__builtin_ctzll(*m);
    *m &= *m - 1;
    return i;
}
