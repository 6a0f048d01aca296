/* Bitmap frame allocator. Invariant: a page whose "used" bit is clear is
 * owned, so a clear used bit is all the single-page path needs to look for;
 * padding bits past page_count are used and not owned. */
#include "hv/mm/frame_alloc.h"

#define PAGE_SHIFT 12
/* Architectural physical address limit (MAXPHYADDR <= 52). */
#define PAGE_NUMBER_LIMIT (1ULL << (52 - PAGE_SHIFT))
#define ALL_ONES UINT64_MAX

static uint64_t *direct_map(const struct frame_alloc *fa, uint64_t phys)
{
    return (uint64_t *)(uintptr_t)(phys + fa->direct_map_offset);
}

static bool bit_test(const uint64_t *bits, uint64_t i)
{
    return (bits[i / 64] >> (i % 64)) & 1;
}

/* Sets or clears bits [from, to), a word at a time where possible. */
static void bits_assign(uint64_t *bits, uint64_t from, uint64_t to, bool value)
{
    while (from < to) {
        uint64_t word = from / 64, shift = from % 64;
        uint64_t count = to - from < 64 - shift ? to - from : 64 - shift;
        uint64_t mask = count == 64 ? ALL_ONES : ((1ULL << count) - 1) << shift;
        if (value)
            bits[word] |= mask;
        else
            bits[word] &= ~mask;
        from += count;
    }
}

static bool map_is_normalized(const struct mem_range *map, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct mem_range *r = &map[i];
        if (r->size == 0 || r->size - 1 > UINT64_MAX - r->base)
            return false;
        if (r->kind == MEM_USABLE && ((r->base | r->size) & (FRAME_SIZE - 1)))
            return false;
        if (i > 0 && r->base <= map[i - 1].base + (map[i - 1].size - 1))
            return false;
    }
    return true;
}

/* The pages of usable entry r the allocator may own below `ceiling`. */
static bool owned_part(const struct mem_range *r, uint64_t lowest, uint64_t ceiling,
                       uint64_t *first, uint64_t *end)
{
    if (r->kind != MEM_USABLE)
        return false;
    uint64_t f = r->base >> PAGE_SHIFT;
    uint64_t e = ((r->base + (r->size - 1)) >> PAGE_SHIFT) + 1;
    *first = f > lowest ? f : lowest;
    *end = e < ceiling ? e : ceiling;
    return *first < *end;
}

static uint64_t bitmap_pages_for(uint64_t page_count)
{
    uint64_t words = (page_count + 63) / 64;
    return (words * 2 * sizeof(uint64_t) + FRAME_SIZE - 1) / FRAME_SIZE;
}

/* Picks the window of pages to manage and where its bitmaps go. */
static bool choose_layout(struct frame_alloc *fa, const struct mem_range *map, size_t n,
                          uint64_t lowest, uint64_t *ceiling)
{
    uint64_t f, e;
    for (;;) {
        uint64_t lo = UINT64_MAX, hi = 0, top_first = 0;
        for (size_t i = 0; i < n; i++) {
            if (!owned_part(&map[i], lowest, *ceiling, &f, &e))
                continue;
            if (f < lo)
                lo = f;
            if (e > hi) {
                hi = e;
                top_first = f;
            }
        }
        if (hi == 0)
            return false;
        uint64_t need = bitmap_pages_for(hi - lo);
        for (size_t i = 0; i < n; i++) {
            if (owned_part(&map[i], lowest, *ceiling, &f, &e) && e - f >= need) {
                fa->first_page = lo;
                fa->page_count = hi - lo;
                fa->bitmap_phys = f << PAGE_SHIFT;
                fa->bitmap_pages = need;
                return true;
            }
        }
        /* Leave the topmost range out: the bitmaps shrink, or another
         * range becomes the top. */
        *ceiling = top_first;
    }
}

bool frame_alloc_init(struct frame_alloc *fa, const struct mem_range *map, size_t n,
                      uintptr_t direct_map_offset, uint64_t lowest_allowed)
{
    if (!fa)
        return false;
    *fa = (struct frame_alloc){.direct_map_offset = direct_map_offset};
    if ((!map && n) || !map_is_normalized(map, n))
        return false;

    uint64_t lowest = (lowest_allowed >> PAGE_SHIFT) + ((lowest_allowed & (FRAME_SIZE - 1)) != 0);
    if (lowest == 0)
        lowest = 1; /* page 0: physical address 0 means "none" */
    uint64_t ceiling = PAGE_NUMBER_LIMIT;
    if (!choose_layout(fa, map, n, lowest, &ceiling))
        return false;
    uint64_t owned = 0, f, e;
    for (size_t i = 0; i < n; i++)
        if (owned_part(&map[i], lowest, ceiling, &f, &e))
            owned += e - f;
    if (owned <= fa->bitmap_pages) {
        *fa = (struct frame_alloc){.direct_map_offset = direct_map_offset};
        return false; /* the bitmaps would take every page */
    }

    fa->word_count = (fa->page_count + 63) / 64;
    fa->used_bits = direct_map(fa, fa->bitmap_phys);
    fa->owned_bits = fa->used_bits + fa->word_count;
    for (uint64_t w = 0; w < fa->word_count; w++) {
        fa->used_bits[w] = ALL_ONES;
        fa->owned_bits[w] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!owned_part(&map[i], lowest, ceiling, &f, &e))
            continue;
        bits_assign(fa->owned_bits, f - fa->first_page, e - fa->first_page, true);
        bits_assign(fa->used_bits, f - fa->first_page, e - fa->first_page, false);
    }
    uint64_t bitmap_first = (fa->bitmap_phys >> PAGE_SHIFT) - fa->first_page;
    bits_assign(fa->owned_bits, bitmap_first, bitmap_first + fa->bitmap_pages, false);
    bits_assign(fa->used_bits, bitmap_first, bitmap_first + fa->bitmap_pages, true);
    fa->total_pages = owned - fa->bitmap_pages;
    fa->free_pages = fa->total_pages;
    return true;
}

bool frame_alloc_reserve(struct frame_alloc *fa, uint64_t base, uint64_t size)
{
    if (size == 0)
        return true;
    if (size - 1 > UINT64_MAX - base)
        return false;
    uint64_t first = base >> PAGE_SHIFT;
    uint64_t end = ((base + (size - 1)) >> PAGE_SHIFT) + 1;
    uint64_t window_end = fa->first_page + fa->page_count;
    if (first < fa->first_page)
        first = fa->first_page;
    if (end > window_end)
        end = window_end;
    for (uint64_t p = first; p < end; p++) {
        uint64_t i = p - fa->first_page;
        if (bit_test(fa->owned_bits, i) && !bit_test(fa->used_bits, i)) {
            fa->used_bits[i / 64] |= 1ULL << (i % 64);
            fa->free_pages--;
        }
    }
    return true;
}

/* Any free page, set aside or not: callers decide whether they may. */
static uint64_t take_page(struct frame_alloc *fa)
{
    if (fa->free_pages == 0)
        return 0;
    uint64_t w = fa->next_word;
    for (uint64_t scanned = 0; scanned < fa->word_count; scanned++) {
        uint64_t free_bits = ~fa->used_bits[w];
        if (free_bits) {
            unsigned bit = (unsigned)__builtin_ctzll(free_bits);
            fa->used_bits[w] |= 1ULL << bit;
            fa->free_pages--;
            fa->next_word = w;
            return (fa->first_page + w * 64 + bit) << PAGE_SHIFT;
        }
        if (++w == fa->word_count)
            w = 0;
    }
    return 0; /* free_pages disagreed with the bitmap: hand out nothing */
}

uint64_t frame_alloc_page(struct frame_alloc *fa)
{
    if (fa->free_pages <= fa->set_aside)
        return 0;
    return take_page(fa);
}

static void zero_page(struct frame_alloc *fa, uint64_t phys)
{
    /* rep stosq: the compiler cannot turn it into a memset call, and it
     * is the fewest instructions (hypercalls that map fresh pages run with
     * interrupts off; under -icount 512 a page, the unrolled loop it
     * replaced ~640). */
    void *p = direct_map(fa, phys);
    uint64_t words = FRAME_SIZE / sizeof(uint64_t);
    __asm__ volatile("rep stosq" : "+D"(p), "+c"(words) : "a"(0ULL) : "memory");
}

uint64_t frame_alloc_page_zeroed(struct frame_alloc *fa)
{
    uint64_t phys = frame_alloc_page(fa);
    if (phys)
        zero_page(fa, phys);
    return phys;
}

bool frame_reservation_make(struct frame_alloc *fa, struct frame_reservation *r, uint64_t pages)
{
    if (pages > fa->free_pages - fa->set_aside)
        return false;
    fa->set_aside += pages;
    *r = (struct frame_reservation){.pages = pages};
    return true;
}

uint64_t frame_reservation_left(const struct frame_reservation *r)
{
    return r->used < r->pages ? r->pages - r->used : 0;
}

uint64_t frame_alloc_charged(struct frame_alloc *fa, struct frame_reservation *r, bool zero)
{
    if (r->used >= r->pages || fa->set_aside == 0)
        return 0;
    uint64_t phys = take_page(fa);
    if (!phys)
        return 0;
    fa->set_aside--;
    r->used++;
    if (zero)
        zero_page(fa, phys);
    return phys;
}

bool frame_free_charged(struct frame_alloc *fa, struct frame_reservation *r, uint64_t phys)
{
    if (r->used == 0 || !frame_free(fa, phys, 1))
        return false;
    r->used--;
    fa->set_aside++;
    return true;
}

uint64_t frame_reservation_end(struct frame_alloc *fa, struct frame_reservation *r)
{
    uint64_t unused = frame_reservation_left(r);
    fa->set_aside -= unused;
    uint64_t still = r->used;
    *r = (struct frame_reservation){0};
    return still;
}

uint64_t frame_alloc_contig(struct frame_alloc *fa, size_t npages, size_t align_pages)
{
    uint64_t align = align_pages ? align_pages : 1;
    if (npages == 0 || npages > fa->free_pages - fa->set_aside || (align & (align - 1)) ||
        align > PAGE_NUMBER_LIMIT)
        return 0;
    uint64_t end = fa->first_page + fa->page_count;
    uint64_t start = (fa->first_page + align - 1) & ~(align - 1);
    while (start < end && npages <= end - start) {
        uint64_t used_at = UINT64_MAX;
        for (uint64_t p = start; p < start + npages; p++) {
            uint64_t i = p - fa->first_page;
            if (fa->used_bits[i / 64] == ALL_ONES) {
                used_at = fa->first_page + (i | 63); /* skip the whole word */
                break;
            }
            if (bit_test(fa->used_bits, i)) {
                used_at = p;
                break;
            }
        }
        if (used_at == UINT64_MAX) {
            uint64_t from = start - fa->first_page;
            bits_assign(fa->used_bits, from, from + npages, true);
            fa->free_pages -= npages;
            return start << PAGE_SHIFT;
        }
        start = (used_at + align) & ~(align - 1); /* first aligned page past it */
    }
    return 0;
}

bool frame_free(struct frame_alloc *fa, uint64_t phys, size_t npages)
{
    if ((phys & (FRAME_SIZE - 1)) || npages == 0)
        return false;
    uint64_t page = phys >> PAGE_SHIFT;
    if (page < fa->first_page || page - fa->first_page >= fa->page_count ||
        npages > fa->page_count - (page - fa->first_page))
        return false;
    uint64_t from = page - fa->first_page;
    for (uint64_t i = from; i < from + npages; i++)
        if (!bit_test(fa->owned_bits, i) || !bit_test(fa->used_bits, i))
            return false;
    bits_assign(fa->used_bits, from, from + npages, false);
    fa->free_pages += npages;
    return true;
}

uint64_t frame_alloc_free_pages(const struct frame_alloc *fa)
{
    return fa->free_pages;
}

uint64_t frame_alloc_unreserved_pages(const struct frame_alloc *fa)
{
    return fa->free_pages - fa->set_aside;
}

uint64_t frame_alloc_total_pages(const struct frame_alloc *fa)
{
    return fa->total_pages;
}
