/* The start-of-day layout of a Xen PV guest (Xen's public xen.h, "Start-of-
 * day memory layout"; the order libxenguest's PV builder allocates in):
 * from the image's extent and the guest's page count to where everything
 * goes. Packed from the kernel's lowest page, each element page-aligned:
 *
 *   1. the kernel image            [kstart, kend)
 *   2. (modules: none)
 *   3. the P2M list                 nr_pages * 8 bytes, whole pages
 *   4. start_info                   1 page
 *   5. the xenstore ring            1 page
 *   6. the console ring             1 page
 *   7. the initial page tables      nr_pt_frames pages: L4 (pt_base), L3s, L2s, L1s
 *   8. the boot stack               1 page; rsp starts at its top
 *   9. padding                      at least 512 KiB: the mapped region
 *                                   [virt_base, v_end) ends on a 4 MiB boundary
 *
 * The initial page tables map all of [virt_base, v_end), so how many there
 * are depends on v_end, which depends on how many there are: the smallest
 * count that covers the region it ends is taken.
 *
 * Pure code: no allocation, no global state, freestanding. */
#pragma once

#include <stdint.h>

#define XEN_LAYOUT_PAD (512ULL << 10)
#define XEN_LAYOUT_ALIGN (4ULL << 20)
/* More initial page-table frames than this is refused (it would map far
 * more than any guest's image and P2M list need: 2048 L1s map 4 GiB). */
#define XEN_LAYOUT_MAX_PT_FRAMES 4096

struct xen_layout {
    uint64_t virt_base;
    uint64_t kstart, kend;          /* 1 */
    uint64_t p2m, p2m_pages;        /* 3: start_info.mfn_list */
    uint64_t start_info;            /* 4 */
    uint64_t store;                 /* 5 */
    uint64_t console;               /* 6 */
    uint64_t pt_base, nr_pt_frames; /* 7 */
    uint64_t nr_l3, nr_l2, nr_l1;   /*   after the one L4, in that order */
    uint64_t stack, rsp;            /* 8 */
    uint64_t v_end;                 /* 9: end of the mapped region */
    uint64_t pages_needed;          /* (v_end - virt_base) / 4096: RAM the region needs */
};

/* Fills *out for an image whose page-aligned extent is [kstart, kend)
 * (virt_base <= kstart) and a guest of nr_pages pages. Returns 0, or -1
 * with `why` (one sentence) when the layout cannot be built: nr_pages too
 * small for the mapped region (as Xen's builder fails), addresses that
 * would pass image_max, or arguments that are not page-aligned. */
int xen_layout_compute(uint64_t virt_base, uint64_t kstart, uint64_t kend, uint64_t nr_pages,
                       uint64_t image_max, struct xen_layout *out, char *why, uint64_t why_len);

/* Like xen_layout_compute for a guest whose RAM is just enough for its
 * start-of-day region: the smallest nr_pages (at least 1024) for which
 * the layout fits, found by growing it (a bigger region needs a bigger
 * P2M list). Returns nr_pages with *out filled, or 0 with `why`. */
uint64_t xen_layout_settle(uint64_t virt_base, uint64_t kstart, uint64_t kend, uint64_t image_max,
                           struct xen_layout *out, char *why, uint64_t why_len);

/* The guest's page count for an allowance of allowance_pages frames when
 * its start-of-day region needs region_pages: as Xen gives a domain all of
 * its memory= as pfns, the region plus what the allowance holds past it
 * and past XEN_LAYOUT_RAM_RESERVE frames for hv's own (its real tables,
 * the p2m and M2P, the records), at XEN_LAYOUT_RAM_COST frames for every
 * 512 pfns more, in whole 512-pfn (2 MiB) steps, at most max_pages (never
 * less than region_pages). The caller recomputes the layout for it (a
 * bigger P2M list may move the region's end). */
#define XEN_LAYOUT_RAM_RESERVE 256ULL
#define XEN_LAYOUT_RAM_STEP 512ULL
#define XEN_LAYOUT_RAM_COST 4ULL
uint64_t xen_layout_ram_pages(uint64_t region_pages, uint64_t allowance_pages, uint64_t max_pages);

/* The initial page tables as the guest sees them (Xen's format, "machine"
 * frame = pfn = (va - virt_base) >> 12): the va of the table of `level`
 * (1..4) whose entry maps va, for va in [virt_base, v_end) ... */
uint64_t xen_layout_table_va(const struct xen_layout *l, int level, uint64_t va);
/* ... and that entry's value: at level 1 P|RW|A (RW off for the tables'
 * own frames), above it P|RW|U|A|D naming the next level's table. */
uint64_t xen_layout_entry(const struct xen_layout *l, int level, uint64_t va);
