/* A vCPU's trap table: where each exception or software-interrupt vector
 * is delivered in the guest. Pure (no hardware), unit-tested. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/hv/abi.h"

#define TRAP_EXCEPTIONS 32
_Static_assert((TRAP_EXCEPTIONS & (TRAP_EXCEPTIONS - 1)) == 0, "a mask");
#define TRAP_SOFT_MAX 16 /* software-interrupt vectors (int n) per vCPU */

struct trap_stage;

struct trap_table {
    uint64_t handler[TRAP_EXCEPTIONS];
    uint8_t flags[TRAP_EXCEPTIONS];
    uint8_t soft_count;
    struct {
        uint8_t vector, flags;
        uint64_t handler;
    } soft[TRAP_SOFT_MAX];
    /* Where each vector sits in soft[] (index + 1; 0: not there), so an
     * entry costs the same whatever the table holds: a 256-entry call is
     * bounded work with interrupts off (docs/benchmarks.md, hv_irq_off_max). */
    uint8_t soft_slot[256];
    uint64_t fast_handler; /* HV_FAST_TRAP_VECTOR's direct gate; 0: none */
    /* A HV_CALL_SET_TRAP_TABLE that stopped part-way to let a pending
     * interrupt in (hv/hypercall/hypercall_cpu.c): the table it builds. */
    struct trap_stage *stage;
};

/* Applies n entries (merging: each sets or, with handler 0, removes one
 * vector) only if every entry is valid; otherwise changes nothing and
 * returns -HV_EINVAL (or -HV_ENOMEM when more soft vectors than fit). */
int trap_table_update(struct trap_table *t, const struct hv_trap_info *entries, size_t n);
/* trap_table_update's one pass over some of the entries, onto a copy
 * (next): -HV_EINVAL at the first invalid entry; an entry that needs a
 * 17th soft vector sets *nomem, and the entries after it are only checked
 * (an invalid entry anywhere wins over -HV_ENOMEM). */
int trap_table_step(struct trap_table *next, const struct hv_trap_info *entries, size_t n,
                    bool *nomem);
/* Frees a vCPU's table and the stage of a call in steps (hv side). */
void trap_table_free(struct trap_table *t);
/* The kmalloc bytes a stage holds (the leak check's count). */
uint64_t trap_table_stage_bytes(void);
/* The handler for an exception (vector < TRAP_EXCEPTIONS: hardware's
 * number, not the guest's choice), or false. Inline: every bounce asks. */
static inline bool trap_table_exception(const struct trap_table *t, unsigned vector,
                                        uint64_t *handler, uint8_t *flags)
{
    vector &= TRAP_EXCEPTIONS - 1;
    *handler = t->handler[vector];
    *flags = t->flags[vector];
    return *handler != 0;
}

/* The handler for a vector (exception or int n), or false. */
bool trap_table_lookup(const struct trap_table *t, unsigned vector, uint64_t *handler,
                       uint8_t *flags);
