/* Xen-ABI test guest: its own page tables, Xen's way (xen.h mmu_update,
 * mmuext_op, update_va_mapping). Run with more memory than its start-of-
 * day region (hv.cfg `memory = 16M`): the RAM past the region exists as
 * pfns (start_info.nr_pages, the P2M list, the M2P) but is not mapped; the
 * guest makes a page of its padding a new L1 table (its mapping read-only
 * first, as Mini-OS's new_pt_frame does), links it, maps pfns past the
 * region through it in a batch longer than one piece, and uses them. Then
 * pin/unpin, a new L2 with an L1 in it, the order of unlinking, and the
 * refusals: a frame mapped writable cannot become a table, a table
 * cannot be mapped writable, linked twice, or linked into itself; frames
 * past its RAM, entries of frames that are not tables, superpages, hv's
 * half, another domain, unknown commands, an M2P change. Each answer is
 * Xen's number. Last it writes its new table through its own read-only
 * mapping: that must fault and end it. */
#include "tests/guests/xen/xen_mm_guest.h"

#define MMU_NORMAL 0
#define MMU_MACHPHYS 1
#define MMU_NO_TRANSLATE 3
#define BATCH 64

static uint8_t data_page[PAGE] __attribute__((aligned(4096)));
static struct xen_mmu_update reqs[BATCH];

static long ext_self(uint32_t cmd, uint64_t arg1)
{
    return mmuext(cmd, arg1, XEN_DOMID_SELF);
}

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    uint64_t stack_top = si->pt_base + (si->nr_pt_frames + 1) * PAGE;
    uint64_t region_end = (stack_top + (512ULL << 10) + (4ULL << 20) - 1) & ~((4ULL << 20) - 1);
    uint64_t region_pages = region_end / PAGE;
    xprint("xen-mm: nr_pages %lu, region ends 0x%lx (%lu pages)\n", (unsigned long)si->nr_pages,
           (unsigned long)region_end, (unsigned long)region_pages);
    check(si->nr_pages >= region_pages + 1024, "RAM past the start-of-day region",
          "nr_pages %lu", (unsigned long)si->nr_pages);
    const volatile uint64_t *p2m = (const uint64_t *)si->mfn_list;
    const volatile uint64_t *m2p = (const uint64_t *)XEN_MACH2PHYS_VIRT_START;
    uint64_t last = si->nr_pages - 1;
    check(p2m[last] == last && m2p[last] == last, "P2M list and M2P cover it",
          "p2m 0x%lx m2p 0x%lx", (unsigned long)p2m[last], (unsigned long)m2p[last]);
    expect_rc(hcall(XEN_HC_update_va_mapping, region_end, (region_pages << 12) | L1_RW | PTE_NX, 0),
              -XEN_EINVAL, "past the region no L1 maps it yet: update_va_mapping -EINVAL");

    /* A new L1 for [region_end, +2 MiB) from the first padding page. */
    uint64_t t1 = stack_top, t1_pfn = t1 / PAGE;
    uint64_t l2e = entry_maddr(si, region_end, 2), t1_pte = entry_maddr(si, t1, 1);
    for (unsigned i = 0; i < 512; i++)
        ((volatile uint64_t *)t1)[i] = 0;
    expect_rc(mmu1(l2e, (t1_pfn << 12) | UPPER), -XEN_EINVAL,
              "a frame mapped writable cannot become a table");
    expect_rc(mmu1(t1_pte, (t1_pfn << 12) | PTE_P | PTE_A), 0, "its mapping made read-only");
    expect_rc(mmu1(l2e, (t1_pfn << 12) | UPPER), 0, "linked as an L1");
    expect_rc(mmu1(t1_pte, (t1_pfn << 12) | L1_RW), -XEN_EINVAL,
              "a table's mapping cannot be made writable");

    /* 64 pfns past the region mapped in one call: four pieces, pdone 64. */
    uint64_t first = region_pages + 16;
    for (unsigned i = 0; i < BATCH; i++)
        reqs[i] = (struct xen_mmu_update){(t1_pfn << 12) + i * 8 + MMU_NORMAL,
                                           ((first + i) << 12) | L1_RW | PTE_NX};
    uint32_t done = 0;
    expect_rc(mmu(reqs, BATCH, &done, XEN_DOMID_SELF), 0, "a batch of 64 entries");
    check(done == BATCH, "pdone counts all pieces", "pdone %u", done);
    unsigned zero = 1, same = 1;
    for (unsigned i = 0; i < BATCH; i++) {
        volatile uint64_t *p = (volatile uint64_t *)(region_end + i * PAGE);
        zero &= p[0] == 0 && p[511] == 0;
        p[0] = 0xfeed0000 + i;
    }
    for (unsigned i = 0; i < BATCH; i++)
        same &= *(volatile uint64_t *)(region_end + i * PAGE) == 0xfeed0000 + i;
    check(zero && same, "new RAM is zeroed, written and read back", "zero %u same %u", zero, same);
    check(((volatile uint64_t *)t1)[5] == (((first + 5) << 12) | L1_RW | PTE_NX),
          "the view holds what it wrote", "entry 0x%lx", (unsigned long)((volatile uint64_t *)t1)[5]);
    /* The same pfn at a second address; update_va_mapping through the new L1. */
    expect_rc(hcall(XEN_HC_update_va_mapping, region_end + 100 * PAGE,
                    (first << 12) | L1_RW | PTE_NX, 0), 0, "update_va_mapping in the new L1");
    check(*(volatile uint64_t *)(region_end + 100 * PAGE) == 0xfeed0000,
          "an alias sees the same frame", "read 0x%lx",
          (unsigned long)*(volatile uint64_t *)(region_end + 100 * PAGE));

    /* Refusals, none of which changes anything. */
    uint64_t l2_pfn = l2e >> 12, data_pfn = (uint64_t)data_page / PAGE;
    expect_rc(mmu1(l2e + 8, (t1_pfn << 12) | UPPER), -XEN_EINVAL, "one table linked twice");
    expect_rc(mmu1(l2e + 8, (l2_pfn << 12) | UPPER), -XEN_EINVAL, "a table linked into itself");
    expect_rc(mmu1(l2e + 8, (si->pt_base & ADDR) | UPPER), -XEN_EINVAL, "the root linked below");
    expect_rc(mmu1(l2e + 8, (si->nr_pages << 12) | UPPER), -XEN_EINVAL, "a frame past its RAM");
    expect_rc(mmu1(l2e + 8, (data_pfn << 12) | UPPER | PTE_PS), -XEN_EINVAL, "a superpage");
    expect_rc(mmu1((t1_pfn << 12) + 6 * 8, (si->nr_pages << 12) | L1_RW), -XEN_EINVAL,
              "a leaf past its RAM");
    expect_rc(mmu1((t1_pfn << 12) + 6 * 8, (0x80000001ULL << 12) | PTE_P), -XEN_EINVAL,
              "hv's grant frame before setup_table");
    expect_rc(mmu1((data_pfn << 12), 0), -XEN_EINVAL, "an entry of a frame that is no table");
    expect_rc(mmu1((si->nr_pages << 12), 0), -XEN_EINVAL, "an entry past its RAM");
    expect_rc(mmu1(l2e + 4, 0), -XEN_EINVAL, "a misaligned entry");
    expect_rc(mmu1((si->pt_base & ADDR) + 255 * 8, ((t1_pfn + 1) << 12) | UPPER), -XEN_EINVAL,
              "L4 slot 255 (hv's part of the lower half)");
    expect_rc(mmu1((si->pt_base & ADDR) + 256 * 8, ((t1_pfn + 1) << 12) | UPPER), -XEN_EINVAL,
              "L4 slot 256 (the upper half)");
    expect_rc(mmu1((t1_pfn << 12) + MMU_NO_TRANSLATE, 0), -XEN_ENOSYS, "MMU_PT_UPDATE_NO_TRANSLATE");
    expect_rc(mmu1((first << 12) + MMU_MACHPHYS, first), 0, "an M2P update that keeps it");
    expect_rc(mmu1((first << 12) + MMU_MACHPHYS, first + 1), -XEN_EINVAL, "an M2P change");
    expect_rc(mmu(reqs, 1, 0, 1), -XEN_ESRCH, "another domain");
    expect_rc(mmu((const struct xen_mmu_update *)0xffff830000000000ULL, 1, 0, XEN_DOMID_SELF),
              -XEN_EFAULT, "requests at hv");
    expect_rc(mmu((const struct xen_mmu_update *)0x7ffffffffff8ULL, 1, 0, XEN_DOMID_SELF),
              -XEN_EFAULT, "requests across the lower half's end");
    done = 0;
    expect_rc(mmu(reqs, 4, (uint32_t *)t1, XEN_DOMID_SELF), -XEN_EFAULT,
              "pdone in its own page table");
    check(((volatile uint64_t *)t1)[0] == reqs[0].val, "the table unchanged by it", "entry 0x%lx",
          (unsigned long)((volatile uint64_t *)t1)[0]);

    /* Pin an L1 built unlinked, fill it, link it: its entries become real. */
    uint64_t t2 = t1 + PAGE, t2_pfn = t2 / PAGE;
    for (unsigned i = 0; i < 512; i++)
        ((volatile uint64_t *)t2)[i] = 0;
    ((volatile uint64_t *)t2)[3] = ((first + 3) << 12) | PTE_P | PTE_A | PTE_NX;
    expect_rc(ext_self(0, t2_pfn), -XEN_EINVAL, "pin while mapped writable");
    expect_rc(mmu1(entry_maddr(si, t2, 1), (t2_pfn << 12) | PTE_P | PTE_A), 0, "t2 read-only");
    expect_rc(ext_self(1, t2_pfn), -XEN_EINVAL, "pin an L1 with a leaf as an L2");
    expect_rc(ext_self(0, t2_pfn), 0, "pin as an L1");
    expect_rc(ext_self(0, t2_pfn), -XEN_EINVAL, "pinned twice");
    expect_rc(mmu1((t2_pfn << 12) + 4 * 8, ((first + 4) << 12) | PTE_P | PTE_A | PTE_NX), 0,
              "an entry of the pinned, unlinked L1");
    expect_rc(mmu1((t2_pfn << 12) + 5 * 8, (t2_pfn << 12) | L1_RW), -XEN_EINVAL,
              "itself writable in it");
    uint64_t va2 = region_end + (2ULL << 20);
    expect_rc(mmu1(l2e + 8, (t2_pfn << 12) | UPPER), 0, "the pinned L1 linked");
    check(*(volatile uint64_t *)(va2 + 3 * PAGE) == 0xfeed0003 &&
          *(volatile uint64_t *)(va2 + 4 * PAGE) == 0xfeed0004,
          "its entries made real at the link", "read 0x%lx 0x%lx",
          (unsigned long)*(volatile uint64_t *)(va2 + 3 * PAGE),
          (unsigned long)*(volatile uint64_t *)(va2 + 4 * PAGE));
    expect_rc(mmu1(l2e + 8, 0), 0, "unlinked again (its leaves go)");
    expect_rc(ext_self(4, t2_pfn), 0, "unpinned");
    expect_rc(ext_self(4, t2_pfn), -XEN_EINVAL, "unpinned twice");
    expect_rc(mmu1(entry_maddr(si, t2, 1), (t2_pfn << 12) | L1_RW | PTE_NX), 0,
              "no table any more: writable again");
    ((volatile uint64_t *)t2)[0] = 1; /* would fault if it were not */

    /* A new L2 at 1 GiB with an L1 in it; unlinked in order. */
    uint64_t t3 = t2 + PAGE, t3_pfn = t3 / PAGE, t4 = t3 + PAGE, t4_pfn = t4 / PAGE;
    for (unsigned i = 0; i < 512; i++)
        ((volatile uint64_t *)t3)[i] = ((volatile uint64_t *)t4)[i] = 0;
    expect_rc(mmu1(entry_maddr(si, t3, 1), (t3_pfn << 12) | PTE_P | PTE_A), 0, "t3 read-only");
    expect_rc(mmu1(entry_maddr(si, t4, 1), (t4_pfn << 12) | PTE_P | PTE_A), 0, "t4 read-only");
    uint64_t l3e = entry_maddr(si, 1ULL << 30, 3);
    expect_rc(mmu1(l3e, (t3_pfn << 12) | UPPER), 0, "a new L2 linked at 1 GiB");
    expect_rc(mmu1(t3_pfn << 12, (t4_pfn << 12) | UPPER), 0, "an L1 linked in it");
    expect_rc(mmu1(t4_pfn << 12, ((first + 7) << 12) | L1_RW | PTE_NX), 0, "a leaf at 1 GiB");
    check(*(volatile uint64_t *)(1ULL << 30) == 0xfeed0007, "read at 1 GiB", "0x%lx",
          (unsigned long)*(volatile uint64_t *)(1ULL << 30));
    expect_rc(mmu1(l3e, 0), -XEN_EBUSY, "an L2 with an L1 in it cannot be unlinked");
    expect_rc(mmu1(t3_pfn << 12, 0), 0, "its L1 unlinked first");
    expect_rc(mmu1(l3e, 0), 0, "then the L2");

    /* MMUEXT_CLEAR_PAGE and COPY_PAGE (16, 17). */
    volatile uint64_t *w0 = (volatile uint64_t *)(region_end + 0 * PAGE);
    volatile uint64_t *w1 = (volatile uint64_t *)(region_end + 1 * PAGE);
    w0[7] = 0x1111;
    w1[7] = 0x2222;
    struct xen_mmuext_op cp = {.cmd = 17, .arg1 = first + 1, .arg2 = first};
    expect_rc(hcall4(XEN_HC_mmuext_op, (uint64_t)&cp, 1, 0, XEN_DOMID_SELF), 0, "COPY_PAGE");
    check(w1[7] == 0x1111 && w1[0] == w0[0], "the copy seen through its mapping", "0x%lx",
          (unsigned long)w1[7]);
    expect_rc(ext_self(16, first), 0, "CLEAR_PAGE");
    check(w0[7] == 0 && w0[0] == 0, "the clear seen through its mapping", "0x%lx",
          (unsigned long)w0[7]);
    expect_rc(ext_self(16, t1_pfn), -XEN_EINVAL, "CLEAR_PAGE of a page table");
    expect_rc(ext_self(16, (uint64_t)__image_start / PAGE), -XEN_EINVAL,
              "CLEAR_PAGE of its executable code (W^X)");
    cp = (struct xen_mmuext_op){.cmd = 17, .arg1 = t1_pfn, .arg2 = first};
    expect_rc(hcall4(XEN_HC_mmuext_op, (uint64_t)&cp, 1, 0, XEN_DOMID_SELF), -XEN_EINVAL,
              "COPY_PAGE onto a page table");
    cp = (struct xen_mmuext_op){.cmd = 17, .arg1 = first, .arg2 = si->nr_pages};
    expect_rc(hcall4(XEN_HC_mmuext_op, (uint64_t)&cp, 1, 0, XEN_DOMID_SELF), -XEN_EINVAL,
              "COPY_PAGE from past its RAM");
    expect_rc(ext_self(16, si->nr_pages), -XEN_EINVAL, "CLEAR_PAGE past its RAM");

    /* Four grant-table frames (Mini-OS's count), each its own frame. */
    struct { uint16_t dom; uint32_t nr; int16_t status; uint64_t list; } gs = {XEN_DOMID_SELF, 4, 7, 0};
    uint64_t gframes[5] = {0, 0, 0, 0, 0};
    gs.list = (uint64_t)gframes;
    check(hcall(XEN_HC_grant_table_op, 2, (uint64_t)&gs, 1) == 0 && gs.status == 0 &&
              gframes[0] == 0x80000001 && gframes[3] == 0x80000004 && gframes[4] == 0,
          "grant setup_table: 4 frames", "status %d frames 0x%lx 0x%lx", gs.status,
          (unsigned long)gframes[0], (unsigned long)gframes[3]);
    unsigned gok = 1;
    for (unsigned i = 0; i < 4; i++)
        gok &= hcall(XEN_HC_update_va_mapping, region_end + (200 + i) * PAGE,
                     (gframes[i] << 12) | L1_RW | PTE_NX, 0) == 0;
    for (unsigned i = 0; i < 4; i++)
        *(volatile uint64_t *)(region_end + (200 + i) * PAGE) = 0x6000 + i;
    for (unsigned i = 0; i < 4; i++)
        gok &= *(volatile uint64_t *)(region_end + (200 + i) * PAGE) == 0x6000 + i;
    check(gok, "the grant frames mapped, four distinct frames", "no");
    struct { uint16_t dom; uint32_t nr, max; int16_t status; } gq = {XEN_DOMID_SELF, 9, 9, 7};
    check(hcall(XEN_HC_grant_table_op, 6, (uint64_t)&gq, 1) == 0 && gq.nr == 4 && gq.max == 4,
          "grant query_size: 4 of 4", "nr %u max %u", gq.nr, gq.max);
    gs.nr = 5;
    check(hcall(XEN_HC_grant_table_op, 2, (uint64_t)&gs, 1) == 0 && gs.status == -1,
          "grant setup_table of 5: GNTST_general_error", "status %d", gs.status);
    expect_rc(mmu1((t1_pfn << 12) + 7 * 8, (0x80000005ULL << 12) | PTE_P | PTE_NX), -XEN_EINVAL,
              "a fifth grant frame does not exist");

    xprint("xen-mm: all %u checks, %u failed\n", checks_run, checks_failed);
    /* Its linked L1 is read-only to it: this write must fault and end it. */
    xprint("xen-mm: writing its new L1 at 0x%lx\n", (unsigned long)t1);
    ((volatile uint64_t *)t1)[9] = (first << 12) | L1_RW;
    xprint("xen-mm: wrote its page table\n");
    shutdown(XEN_SHUTDOWN_poweroff);
}
