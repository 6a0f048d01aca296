/* Physical page (4 KiB frame) allocator over a normalised memory map.
 *
 * Two bitmaps cover every page from the lowest to the highest page the
 * allocator may hand out: "owned" (the page is usable memory the allocator
 * manages) and "used" (not free right now). They live in usable memory of
 * their own, taken at init, and are reached through the direct map
 * (virtual = physical + direct_map_offset), as is every page zeroed here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/mm/memmap.h"

#define FRAME_SIZE 4096ULL

struct frame_alloc {
    uint64_t *used_bits;   /* 1 = allocated, reserved, or not owned */
    uint64_t *owned_bits;  /* 1 = managed by the allocator */
    uint64_t first_page;   /* page number of bit 0 */
    uint64_t page_count;   /* pages the bitmaps describe */
    uint64_t word_count;   /* 64-bit words per bitmap */
    uint64_t next_word;    /* next-fit hint for single pages */
    uint64_t total_pages;
    uint64_t free_pages;   /* free, set-aside pages included */
    uint64_t set_aside;    /* free pages promised to reservations (<= free_pages) */
    uint64_t bitmap_phys;  /* where the bitmaps themselves live */
    uint64_t bitmap_pages;
    uintptr_t direct_map_offset;
};

/* Builds the allocator over map[0..n), which must be normalised (sorted,
 * non-overlapping, USABLE ranges page aligned, no range wrapping): anything
 * else is refused (false). Pages below lowest_allowed, page 0, and pages at
 * or above 2^52 (beyond any physical address) are never handed out. If the
 * bitmaps for all usable memory fit in no single usable range, the highest
 * usable ranges are left out until they do. Returns false when nothing is
 * left to manage or there is no room for the bitmaps. */
bool frame_alloc_init(struct frame_alloc *fa, const struct mem_range *map, size_t n,
                      uintptr_t direct_map_offset, uint64_t lowest_allowed);

/* Marks every page touching [base, base + size) as in use (say, data hv
 * already placed in usable memory); pages the allocator does not own are
 * ignored, pages already in use stay so. Reserved pages may later be given
 * back with frame_free. False (nothing changed) only if the range wraps. */
bool frame_alloc_reserve(struct frame_alloc *fa, uint64_t base, uint64_t size);

/* One page: its physical address, or 0 when none is left. */
uint64_t frame_alloc_page(struct frame_alloc *fa);
/* The same, zeroed through the direct map. */
uint64_t frame_alloc_page_zeroed(struct frame_alloc *fa);
/* npages contiguous pages whose first page number is a multiple of
 * align_pages (a power of two; 0 means 1); 0 when impossible or invalid.
 * First fit from the bottom; O(pages managed). Not zeroed. */
uint64_t frame_alloc_contig(struct frame_alloc *fa, size_t npages, size_t align_pages);
/* Gives back npages pages from phys. False, and nothing changed, when phys
 * is unaligned, npages is 0, or any page in the run is free already or was
 * never the allocator's to give. */
bool frame_free(struct frame_alloc *fa, uint64_t phys, size_t npages);

uint64_t frame_alloc_free_pages(const struct frame_alloc *fa);
/* Free pages no reservation holds: what frame_alloc_page and
 * frame_alloc_contig may hand out. */
uint64_t frame_alloc_unreserved_pages(const struct frame_alloc *fa);

/* A counted reservation (a guest's memory allowance): `pages` free pages
 * are set aside when it is made, so that whatever else allocates, the
 * holder can always get them. Frames are fungible: the reservation is a
 * number, not particular pages. `used` counts pages allocated from it and
 * not freed; used <= pages always, and nothing is computed as
 * pages - used before that is known to hold. */
struct frame_reservation {
    uint64_t pages;
    uint64_t used;
};

/* Sets `pages` pages aside for r (r->used = 0). False, nothing changed, if
 * fewer than that are free and unreserved. */
bool frame_reservation_make(struct frame_alloc *fa, struct frame_reservation *r, uint64_t pages);
/* Pages r may still allocate. */
uint64_t frame_reservation_left(const struct frame_reservation *r);
/* One page out of r's reservation (zeroed when `zero`), or 0 when r has
 * used all of it. */
uint64_t frame_alloc_charged(struct frame_alloc *fa, struct frame_reservation *r, bool zero);
/* Gives a page allocated from r back, to r's reservation. False, nothing
 * changed, if r has nothing charged or the page was not allocated. */
bool frame_free_charged(struct frame_alloc *fa, struct frame_reservation *r, uint64_t phys);
/* Ends r: its unused pages go back to everyone. Returns the pages still
 * charged (0 when its holder gave back everything); those stay allocated. */
uint64_t frame_reservation_end(struct frame_alloc *fa, struct frame_reservation *r);
/* Pages the allocator manages (free or not), bitmap pages excluded. */
uint64_t frame_alloc_total_pages(const struct frame_alloc *fa);
