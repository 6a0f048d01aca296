/* The start-of-day layout of a Xen PV guest (hv/xen/xen_layout.h). */
#include "hv/xen/xen_layout.h"

#include "lib/fmt.h"

#include <stdbool.h>

#define PAGE 4096ULL
/* 2^36 pages (256 TiB) is far beyond any allowance; it keeps every sum
 * below from wrapping. */
#define MAX_PAGES (1ULL << 36)

static int refuse(char *why, uint64_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(char *why, uint64_t why_len, const char *fmt, ...)
{
    if (why_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        fmt_vformat(why, why_len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Tables of one level needed to map [start, end): one per 2^shift bytes
 * the range touches. */
static uint64_t tables(uint64_t start, uint64_t end, unsigned shift)
{
    return ((end - 1) >> shift) - (start >> shift) + 1;
}

int xen_layout_compute(uint64_t virt_base, uint64_t kstart, uint64_t kend, uint64_t nr_pages,
                       uint64_t image_max, struct xen_layout *out, char *why, uint64_t why_len)
{
    if (why_len > 0)
        why[0] = 0;
    if ((virt_base | kstart | kend | image_max) & (PAGE - 1) || virt_base > kstart || kstart >= kend ||
        kend > image_max)
        return refuse(why, why_len, "bad image extent 0x%lx-0x%lx (virt_base 0x%lx)",
                      (unsigned long)kstart, (unsigned long)kend, (unsigned long)virt_base);
    if (nr_pages == 0 || nr_pages > MAX_PAGES)
        return refuse(why, why_len, "%lu pages of memory is not a size hv builds",
                      (unsigned long)nr_pages);
    *out = (struct xen_layout){.virt_base = virt_base, .kstart = kstart, .kend = kend};
    out->p2m = kend;
    out->p2m_pages = (nr_pages * 8 + PAGE - 1) / PAGE;
    out->start_info = out->p2m + out->p2m_pages * PAGE;
    out->store = out->start_info + PAGE;
    out->console = out->store + PAGE;
    out->pt_base = out->console + PAGE;
    /* The smallest count n whose region needs at most n tables: the count
     * needed only grows with n, so at that n it is exactly n. */
    for (uint64_t n = 1; n <= XEN_LAYOUT_MAX_PT_FRAMES; n++) {
        uint64_t stack = out->pt_base + n * PAGE;
        uint64_t v_end = (stack + PAGE + XEN_LAYOUT_PAD + XEN_LAYOUT_ALIGN - 1) & ~(XEN_LAYOUT_ALIGN - 1);
        if (v_end > image_max)
            return refuse(why, why_len, "the start-of-day region would end at 0x%lx, past 0x%lx",
                          (unsigned long)v_end, (unsigned long)image_max);
        uint64_t l3 = tables(virt_base, v_end, 39), l2 = tables(virt_base, v_end, 30);
        uint64_t l1 = tables(virt_base, v_end, 21);
        if (1 + l3 + l2 + l1 > n)
            continue;
        out->nr_pt_frames = n;
        out->nr_l3 = l3;
        out->nr_l2 = l2;
        out->nr_l1 = l1;
        out->stack = stack;
        out->rsp = stack + PAGE;
        out->v_end = v_end;
        out->pages_needed = (v_end - virt_base) / PAGE;
        if (nr_pages < out->pages_needed)
            return refuse(why, why_len, "%lu pages of memory; the start-of-day region "
                                        "0x%lx-0x%lx alone needs %lu",
                          (unsigned long)nr_pages, (unsigned long)virt_base,
                          (unsigned long)v_end, (unsigned long)out->pages_needed);
        return 0;
    }
    return refuse(why, why_len, "the start-of-day region needs more than %u page-table frames",
                  XEN_LAYOUT_MAX_PT_FRAMES);
}

uint64_t xen_layout_settle(uint64_t virt_base, uint64_t kstart, uint64_t kend, uint64_t image_max,
                           struct xen_layout *out, char *why, uint64_t why_len)
{
    uint64_t n = 1024; /* 4 MiB: the smallest region there is */
    for (int round = 0; round < 8; round++) {
        *out = (struct xen_layout){0};
        if (xen_layout_compute(virt_base, kstart, kend, n, image_max, out, why, why_len) == 0)
            return n;
        if (out->pages_needed <= n)
            return 0; /* refused for another reason than its size: `why` says */
        n = out->pages_needed;
    }
    refuse(why, why_len, "the start-of-day layout does not settle");
    return 0;
}

uint64_t xen_layout_ram_pages(uint64_t region_pages, uint64_t allowance_pages, uint64_t max_pages)
{
    if (region_pages >= max_pages || allowance_pages <= region_pages + XEN_LAYOUT_RAM_RESERVE)
        return region_pages;
    uint64_t spare = allowance_pages - region_pages - XEN_LAYOUT_RAM_RESERVE;
    uint64_t room = max_pages - region_pages;
    if (spare > room * 2)
        spare = room * 2; /* more than can be used: keeps the product below from wrapping */
    uint64_t extra = spare * XEN_LAYOUT_RAM_STEP / (XEN_LAYOUT_RAM_STEP + XEN_LAYOUT_RAM_COST);
    if (extra > room)
        extra = room;
    return region_pages + extra - extra % XEN_LAYOUT_RAM_STEP;
}

uint64_t xen_layout_table_va(const struct xen_layout *l, int level, uint64_t va)
{
    uint64_t base = l->virt_base, l3 = l->pt_base + PAGE, l2 = l3 + l->nr_l3 * PAGE;
    uint64_t l1 = l2 + l->nr_l2 * PAGE;
    switch (level) {
    case 4: return l->pt_base;
    case 3: return l3 + ((va >> 39) - (base >> 39)) * PAGE;
    case 2: return l2 + ((va >> 30) - (base >> 30)) * PAGE;
    default: return l1 + ((va >> 21) - (base >> 21)) * PAGE;
    }
}

#define L1_FLAGS 0x23ULL    /* P|RW|A */
#define UPPER_FLAGS 0x67ULL /* P|RW|U|A|D */
#define RW 0x2ULL

uint64_t xen_layout_entry(const struct xen_layout *l, int level, uint64_t va)
{
    if (level <= 1) {
        uint64_t pfn = (va - l->virt_base) / PAGE;
        bool table = va >= l->pt_base && va < l->pt_base + l->nr_pt_frames * PAGE;
        return (pfn << 12) | (table ? L1_FLAGS & ~RW : L1_FLAGS);
    }
    uint64_t next = xen_layout_table_va(l, level - 1, va);
    return (((next - l->virt_base) / PAGE) << 12) | UPPER_FLAGS;
}
