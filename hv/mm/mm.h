/* The hypervisor's memory: physical frames, its own page tables, the direct
 * map of physical memory, and mappings of device memory. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/handoff.h"
#include "hv/mm/frame_alloc.h"
#include "hv/mm/pagetable.h"

/* Device memory is mapped on demand into this window. */
#define HV_MMIO_BASE 0xffffc00000000000ULL
#define HV_MMIO_SIZE (512ULL << 30)

enum mmio_cache { MMIO_UNCACHED, MMIO_WRITE_COMBINING };

void mm_init(const struct handoff *h);
/* True when PML4 slots [HV_XEN_RESERVED_START, HV_XEN_RESERVED_END) of the
 * root at root_phys map nothing (hv/handoff.h says why they must not). */
bool mm_xen_slots_empty(uint64_t root_phys);

static inline void *phys_to_virt(uint64_t phys)
{
    return (void *)(phys + HV_DIRECT_MAP_BASE);
}

static inline uint64_t virt_to_phys(const void *direct_mapped)
{
    return (uint64_t)direct_mapped - HV_DIRECT_MAP_BASE;
}

/* Zeroed, physically contiguous, direct-mapped pages; NULL when none left. */
void *kalloc_zeroed(uint64_t bytes);
uint64_t frame_get_zeroed(void);
void frame_put(uint64_t phys);
/* Guests' allowances (hv/mm/frame_alloc.h, struct frame_reservation):
 * mm_reserve sets pages aside (false if they are not free), frames are
 * then taken from and given back to the reservation, and
 * mm_reservation_end returns the unused part, reporting the pages still
 * charged. kalloc_zeroed, kmalloc and frame_get_zeroed never take a page
 * a reservation holds. */
bool mm_reserve(struct frame_reservation *r, uint64_t pages);
uint64_t mm_reservation_end(struct frame_reservation *r);
uint64_t frame_get_charged(struct frame_reservation *r); /* zeroed; 0 when r is used up */
void frame_put_charged(struct frame_reservation *r, uint64_t phys);
/* The page numbers the frame allocator manages: [*first, *first + *count). */
void mm_frame_range(uint64_t *first, uint64_t *count);

/* Small objects (zeroed, aligned to their power-of-two size class). The
 * size must be passed back to kfree. */
void *kmalloc(size_t size);
void kfree(void *p, size_t size);
uint64_t kmalloc_bytes_in_use(void);

void *mmio_map(uint64_t phys, uint64_t size, enum mmio_cache cache);

/* An AP's stack (hv/cpu/smp.c): zeroed pages mapped in the device window
 * between unmapped guard pages, write-back, NX; each_page (may be NULL)
 * is told every page; returns its top, NULL when out of memory. */
void *mm_stack_alloc(uint64_t bytes, void (*each_page)(uint64_t va, uint64_t phys));
/* Usable pages below 1 MiB in a row (never handed out by the frame
 * allocator, free for the SMP trampoline): the first's address, or 0. */
uint64_t mm_low_pages(unsigned pages);

struct pt_space *kernel_space(void);
/* Makes the direct map's alias of hv's text and rodata read-only and
 * non-executable (once, after the entry paths are patched). */
void mm_protect_core_alias(void);
/* The physical address of a core address (text, data, stacks). */
uint64_t mm_core_phys(uint64_t va);
/* Highest physical address the direct map covers (for table parsers). */
uint64_t direct_map_limit(void);

/* The end-of-run check that every guest gave back all it caused: mark
 * before the first guest (and [shm] region) is made; check after all are
 * gone. Logs one line with the numbers, an error line when they differ. */
void mm_balance_mark(void);
bool mm_balance_check(void);
/* hv-wide frame figures since that mark (hv/guest/leak_check.c balances
 * them at every guest end and hv/debug/stats.c once a minute): free frames
 * now (set-aside ones included), frames kmalloc took since the mark for its
 * size classes (kept for reuse) and for blocks above 2 KiB held now, and
 * kmalloc's byte count. False before the mark. */
struct mm_frame_figures {
    uint64_t free_at_mark, free, kmalloc_class, kmalloc_large, kmalloc_bytes;
};
bool mm_frame_figures(struct mm_frame_figures *out);
/* Free memory no reservation holds. */
uint64_t mm_free_bytes(void);
/* Free frames, set-aside ones included (the end-of-run balance). */
uint64_t mm_free_pages(void);
uint64_t mm_total_usable_bytes(void);

/* The boot page tables (identity map kept), for calling firmware at the end. */
uint64_t mm_boot_tables(void);
