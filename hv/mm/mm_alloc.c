/* hv's physical memory behind its locks: the frame allocator (frames,
 * guests' allowances), kmalloc's heap, and the figures the leak checks and
 * the statistics line read. hv/mm/mm.c builds hv's own tables on top. */
#include "hv/mm/mm.h"

#include "hv/console/log.h"
#include "hv/cpu/spinlock.h"
#include "hv/cpu/lock_order.h"
#include "hv/debug/panic.h"
#include "hv/mm/frame_alloc.h"
#include "hv/mm/kmalloc.h"
#include "hv/mm/mm_internal.h"

#define PAGE 4096ULL

static struct frame_alloc frames;

/* Locks (docs/design.md, "Locking"), taken in this order when nested:
 * heap_lock (kmalloc's classes), frames_lock (the frame allocator: its
 * bitmaps, its counts and every reservation's count, which move together).
 * A guest's locks and hv/mm/mm.c's kspace_lock come before both. Each is
 * held for a bounded bitmap scan or list step; pages are zeroed after
 * frames_lock is given back. */
static struct spinlock heap_lock, frames_lock;

__attribute__((noinline)) uint64_t mm_lock_take(struct spinlock *l, unsigned level)
{
    return spin_lock_irqsave_at(l, level);
}

__attribute__((noinline)) void mm_lock_give(struct spinlock *l, unsigned level, uint64_t flags)
{
    spin_unlock_irqrestore_at(l, level, flags);
}

/* heap_lock and frames_lock are the last levels: nothing is taken inside
 * them, so the order check would catch only a CPU taking one twice (which
 * hangs it anyway), and it costs ~9 instructions a take on the paths that
 * take them most (a teardown frees page by page: timer_late_under_attack
 * +2.4 %, the EXIT of hv_irq_off_max +2.9 %). Unchecked. */
static __attribute__((noinline)) uint64_t take(struct spinlock *l)
{
    return spin_lock_irqsave(l);
}

static __attribute__((noinline)) void give(struct spinlock *l, uint64_t flags)
{
    spin_unlock_irqrestore(l, flags);
}

bool mm_alloc_init(const struct mem_range *ranges, size_t count)
{
    return frame_alloc_init(&frames, ranges, count, HV_DIRECT_MAP_BASE, 1ULL << 20);
}

static void zero_frame(uint64_t phys)
{
    zero_words(phys_to_virt(phys), PAGE / 8);
}

uint64_t frame_get_zeroed(void)
{
    uint64_t flags = take(&frames_lock);
    uint64_t phys = frame_alloc_page(&frames);
    give(&frames_lock, flags);
    if (phys)
        zero_frame(phys);
    return phys;
}

void mm_frame_range(uint64_t *first, uint64_t *count)
{
    *first = frames.first_page;
    *count = frames.page_count;
}

void frame_put(uint64_t phys)
{
    uint64_t flags = take(&frames_lock);
    bool ok = frame_free(&frames, phys, 1);
    give(&frames_lock, flags);
    if (!ok)
        panic("frame_put: 0x%lx was not an allocated frame", (unsigned long)phys);
}

bool mm_reserve(struct frame_reservation *r, uint64_t pages)
{
    uint64_t flags = take(&frames_lock);
    bool ok = frame_reservation_make(&frames, r, pages);
    give(&frames_lock, flags);
    return ok;
}

uint64_t mm_reservation_end(struct frame_reservation *r)
{
    uint64_t flags = take(&frames_lock);
    uint64_t still = frame_reservation_end(&frames, r);
    give(&frames_lock, flags);
    return still;
}

uint64_t frame_get_charged(struct frame_reservation *r)
{
    uint64_t flags = take(&frames_lock);
    uint64_t phys = frame_alloc_charged(&frames, r, false);
    give(&frames_lock, flags);
    if (phys)
        zero_frame(phys);
    return phys;
}

void frame_put_charged(struct frame_reservation *r, uint64_t phys)
{
    uint64_t flags = take(&frames_lock);
    bool ok = frame_free_charged(&frames, r, phys);
    give(&frames_lock, flags);
    if (!ok)
        panic("frame_put_charged: 0x%lx was not a charged frame", (unsigned long)phys);
}

void *kalloc_zeroed(uint64_t bytes)
{
    uint64_t pages = (bytes + PAGE - 1) / PAGE;
    /* One page from the next-fit search: hypercalls reach here (a guest's
     * first console line, event table, kmalloc class page), and the
     * first-fit search for a run scans from the bottom of memory. */
    uint64_t flags = take(&frames_lock);
    uint64_t phys = pages == 1 ? frame_alloc_page(&frames) : frame_alloc_contig(&frames, pages, 1);
    give(&frames_lock, flags);
    if (!phys)
        return NULL;
    void *p = phys_to_virt(phys);
    zero_words(p, pages * PAGE / 8);
    return p;
}

static void *heap_get_pages(void *arg, size_t pages)
{
    (void)arg;
    return kalloc_zeroed(pages * PAGE);
}

static void heap_put_pages(void *arg, void *p, size_t pages)
{
    (void)arg;
    uint64_t flags = take(&frames_lock);
    bool ok = frame_free(&frames, virt_to_phys(p), pages);
    give(&frames_lock, flags);
    if (!ok)
        panic("kfree: pages at %p were not allocated", p);
}

static struct kmalloc_heap heap = {.get_pages = heap_get_pages, .put_pages = heap_put_pages};

/* heap_lock is held while a class page is carved (its frame comes under
 * frames_lock, nested) and while an object of up to 2 KiB is zeroed. */
void *kmalloc(size_t size)
{
    uint64_t flags = take(&heap_lock);
    void *p = kmalloc_from(&heap, size);
    give(&heap_lock, flags);
    return p;
}

void kfree(void *p, size_t size)
{
    uint64_t flags = take(&heap_lock);
    kfree_to(&heap, p, size);
    give(&heap_lock, flags);
}

uint64_t kmalloc_bytes_in_use(void)
{
    return heap.bytes_in_use;
}

static struct {
    bool marked;
    uint64_t free_pages, kmalloc_bytes, class_pages, large_pages;
} before_guests;

/* A snapshot under both locks, so the figures agree with each other. */
static uint64_t figures_lock(void)
{
    uint64_t flags = take(&heap_lock);
    spin_lock(&frames_lock);
    return flags;
}

static void figures_unlock(uint64_t flags)
{
    spin_unlock(&frames_lock);
    give(&heap_lock, flags);
}

bool mm_frame_figures(struct mm_frame_figures *out)
{
    if (!before_guests.marked)
        return false;
    uint64_t flags = figures_lock();
    *out = (struct mm_frame_figures){
        .free_at_mark = before_guests.free_pages,
        .free = frame_alloc_free_pages(&frames),
        .kmalloc_class = heap.class_pages - before_guests.class_pages,
        .kmalloc_large = heap.large_pages - before_guests.large_pages,
        .kmalloc_bytes = heap.bytes_in_use,
    };
    figures_unlock(flags);
    return true;
}

void mm_balance_mark(void)
{
    uint64_t flags = figures_lock();
    before_guests.marked = true;
    before_guests.free_pages = frame_alloc_free_pages(&frames);
    before_guests.kmalloc_bytes = heap.bytes_in_use;
    before_guests.class_pages = heap.class_pages;
    before_guests.large_pages = heap.large_pages;
    figures_unlock(flags);
}

bool mm_balance_check(void)
{
    if (!before_guests.marked)
        return true;
    /* Pages kmalloc carved into size classes since stay with it, free for
     * reuse: they count as free here. Reservations must all have ended. */
    uint64_t flags = figures_lock();
    uint64_t free_now = frame_alloc_free_pages(&frames) + (heap.class_pages - before_guests.class_pages);
    uint64_t bytes_now = heap.bytes_in_use, set_aside = frames.set_aside;
    figures_unlock(flags);
    bool ok = free_now == before_guests.free_pages && bytes_now == before_guests.kmalloc_bytes &&
              set_aside == 0;
    if (ok)
        log_info("memory balance: %lu free frames and %lu kmalloc bytes, as before the first "
                 "guest",
                 (unsigned long)free_now, (unsigned long)bytes_now);
    else
        log_error("memory balance: %lu free frames (%lu before the first guest), %lu kmalloc "
                  "bytes (%lu before), %lu frames still reserved",
                  (unsigned long)free_now, (unsigned long)before_guests.free_pages,
                  (unsigned long)bytes_now, (unsigned long)before_guests.kmalloc_bytes,
                  (unsigned long)set_aside);
    return ok;
}

uint64_t mm_free_bytes(void)
{
    uint64_t flags = take(&frames_lock);
    uint64_t pages = frame_alloc_unreserved_pages(&frames);
    give(&frames_lock, flags);
    return pages * PAGE;
}

uint64_t mm_free_pages(void)
{
    uint64_t flags = take(&frames_lock);
    uint64_t pages = frame_alloc_free_pages(&frames);
    give(&frames_lock, flags);
    return pages;
}
