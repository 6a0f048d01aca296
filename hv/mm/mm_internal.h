/* The frame allocator and the kmalloc heap behind their locks
 * (hv/mm/mm_alloc.c), as hv/mm/mm.c's boot code needs them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/cpu/spinlock.h"
#include "hv/mm/memmap.h"

/* The frame allocator over the normalised map (low memory left free). */
bool mm_alloc_init(const struct mem_range *ranges, size_t count);
/* Out of line: ~50 bytes of lock and interrupt-flag code saved at each of
 * the many call sites (hv_image_bytes), on paths make bench does not time. */
uint64_t mm_lock_take(struct spinlock *l, unsigned level);
void mm_lock_give(struct spinlock *l, unsigned level, uint64_t flags);
