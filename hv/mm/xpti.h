/* Loading an address space, and page-table isolation (XPTI) for CPUs
 * affected by Meltdown: a guest runs on tables that hold its own lower half
 * and, of hv, only what the entry and exit paths touch before switching
 * CR3 (their code, the IDT, each CPU's entry area with GDT, TSS, per-CPU
 * data and entry stack, the IST stacks). hv's direct map of all memory,
 * its data, heap and stacks are not there, so a guest cannot read them
 * even speculatively. Each guest address space gets a second root for
 * this, its lower half kept equal to the full root's by hv/mm/pagetable.c.
 *
 * With PCID, hv's view of a space and the guest's are tagged apart, so the
 * CR3 writes of an entry and exit keep the TLB. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/cpu/x86.h"
#include "hv/mm/pagetable.h"

/* Sets the entry paths' switches from the mitigation decisions and, with
 * isolation, builds the part of hv that guests' tables map. Before the
 * first guest space is made. */
void xpti_init(bool publish_cr3_writes);
bool xpti_enabled(void);
/* What xpti_init set, logged (once the clock runs: early lines are slow to
 * draw, see mitigations_log). */
void xpti_log(void);
/* An AP's entry area or IST stack, mapped into the template of guests'
 * tables (writable, NX). Before the first guest space is made: each
 * copies the template's top-level entries. No-op without isolation. */
void xpti_show_cpu(uint64_t va, uint64_t phys, uint64_t size);
/* Pages of hv in guests' tables (the boot CPU's part and every AP's). */
uint64_t xpti_shown_pages(void);

/* This CPU's CR3 writes so far, if hv.cfg's measure_cr3_writes lets
 * guests see them (HV_CALL_VCPU_INFO puts it in the shared page), else 0.
 * Off by default: a guest would learn how often the others enter hv. */
uint64_t xpti_cr3_writes_shown(void);

/* Gives a new guest space its isolated root (a page from the space's own
 * allocator; false if none), when isolation is on. */
bool xpti_space_init(struct pt_space *s);
/* Gives the isolated root back (before the space's own root). */
void xpti_space_free(struct pt_space *s, void (*free_table)(void *arg, uint64_t phys), void *arg);

/* Makes s the space the CPU runs on (hv's full view of it), and the one
 * the next return to a guest enters (its isolated view). */
void space_load(const struct pt_space *s);
/* Whether s is the space loaded on this CPU (hv's view of it, with
 * isolation: its full root). Inline: every guest-memory copy asks. */
static inline bool space_loaded(const struct pt_space *s)
{
    return (read_cr3() & PTE_ADDR_MASK) == s->root_phys;
}
/* After hv changed mappings of the loaded space and invalidated them in
 * its own view: the guest's view is invalidated by the next exit. */
void space_tlb_changed(void);
