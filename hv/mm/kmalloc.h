/* Small-object allocator for hypervisor structures (guests, vCPUs, their
 * FPU areas): power-of-two size classes from 64 bytes to 2 KiB carved from
 * whole pages, so per-guest bookkeeping does not cost a page per object.
 * Larger requests take whole pages. Pure: pages come from a callback, so
 * host tests can run it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KMALLOC_MIN 64
#define KMALLOC_MAX 2048
#define KMALLOC_CLASSES 6 /* 64 128 256 512 1024 2048 */

struct kmalloc_heap {
    void *free_list[KMALLOC_CLASSES];
    /* Returns a page-aligned, zeroed region of `pages` pages, or NULL. */
    void *(*get_pages)(void *arg, size_t pages);
    void (*put_pages)(void *arg, void *p, size_t pages);
    void *arg;
    uint64_t bytes_in_use; /* as requested, rounded to the class size */
    uint64_t class_pages;  /* pages carved into size classes (kept for reuse) */
    uint64_t large_pages;  /* pages held by blocks above KMALLOC_MAX now */
};

/* Zeroed memory aligned to its size class (64 bytes at least), or NULL. */
void *kmalloc_from(struct kmalloc_heap *h, size_t size);
/* The bytes a block of `size` takes (what bytes_in_use counts for it):
 * its size class, or whole pages above KMALLOC_MAX; 0 for 0. Inline, so a
 * constant size folds to a constant (the leak check sums a few per guest
 * after every guest's end: hv/guest/leak_check.c). */
static inline uint64_t kmalloc_block_bytes(size_t size)
{
    if (size == 0)
        return 0;
    if (size > KMALLOC_MAX)
        return ((uint64_t)size + 4095) / 4096 * 4096;
    if (size <= KMALLOC_MIN)
        return KMALLOC_MIN;
    return 1ULL << (64 - __builtin_clzll((uint64_t)size - 1)); /* the next power of two */
}
/* `size` must be the size given to kmalloc_from. */
void kfree_to(struct kmalloc_heap *h, void *p, size_t size);
