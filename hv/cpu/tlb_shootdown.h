/* TLB shootdown: after a guest's page is unmapped or its protection
 * lowered, every other CPU that may still translate it through its TLB (or
 * its paging-structure caches, when tables went) flushes before the
 * hypercall returns. Which CPUs: those in the space's cpus_loaded, kept by
 * space_load (hv/mm/xpti.c): a CPU is in it from just before it loads the
 * space's root until just after it has loaded another (which drops every
 * non-global translation of the old one; with PCID the old tags are only
 * ever reused through a flushing CR3 write).
 *
 * Each CPU has one request slot of its own (it waits for its request to be
 * done before it makes another) and a word of pending senders; a sender
 * fills its slot, sets its bit in every target's word, sends VEC_TLB_SHOOTDOWN
 * and waits, with interrupts let in between polls and its own pending
 * requests served while it waits, for every target to acknowledge. It
 * holds no lock while it waits (docs/design.md, "Locking"), so two CPUs
 * shooting at each other, or at a CPU spinning on a lock, cannot deadlock. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/cpu/cpu_mask.h"
#include "hv/mm/pagetable.h"

/* Its own vector, above the timer's and below the spurious one. */
#define VEC_TLB_SHOOTDOWN 0xf2

/* Registers the vector's handler. Once, before any guest space exists. */
void tlb_shootdown_init(void);

/* space_load's side: this CPU (its index and APIC ID noted for senders)
 * is about to load `next` and leave `prev` (either may be NULL). */
void tlb_cpu_entering(struct pt_space *next);
void tlb_cpu_left(struct pt_space *prev);

/* The CPUs other than this one that may cache translations of s. Read
 * after the change to s's tables is written (a full fence first), under
 * the lock that made the change, so a CPU that loads s later sees it. */
cpu_mask_t tlb_targets(const struct pt_space *s);

/* Makes every CPU in `targets` flush [va, va + pages * 4 KiB) of the
 * space whose root is root_phys (everything of it when full), and waits
 * until each has. Called with no lock held, from a hypercall. */
void tlb_shootdown(cpu_mask_t targets, uint64_t root_phys, uint64_t va, uint64_t pages, bool full);

/* Serves the requests pending for this CPU (the interrupt handler does;
 * a CPU waiting with interrupts off for another CPU may too). */
void tlb_shootdown_poll(void);

/* Shootdowns sent so far; the summary's line ("tlb: N shootdown(s) sent,
 * M flush(es) done by other CPUs"), when any was sent. */
uint64_t tlb_shootdowns_sent(void);
void tlb_shootdown_report(void);
