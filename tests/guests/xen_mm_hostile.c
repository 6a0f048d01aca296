/* Xen-ABI test guest, hostile against its own page-table calls (run beside
 * a companion, hv.cfg `memory = 16M`): batches whose request list runs into
 * unmapped memory after several pieces (pdone says how far), counts with
 * Xen's preempted bit forged, counts over 32 bits, a pdone in hv; a full
 * L1 of 512 leaves linked and unlinked 300 times (each its own piece, so
 * the companion keeps running); every padding page offered as a table
 * while writable, then pin/unpin 1000 times; mmuext_op with unknown
 * commands and another domain; a multicall of mmu_updates. Each answer is
 * Xen's number. Last it unlinks the L1 that maps its own code: its next
 * fetch faults and ends it, and hv's leak check finds nothing. */
#include "tests/guests/xen/xen_mm_guest.h"

#define PREEMPTED (1ULL << 31)

static struct xen_mmu_update reqs[512];

static void zero_page(uint64_t va)
{
    for (unsigned i = 0; i < 512; i++)
        ((volatile uint64_t *)va)[i] = 0;
}

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    uint64_t stack_top = si->pt_base + (si->nr_pt_frames + 1) * PAGE;
    uint64_t region_end = (stack_top + (512ULL << 10) + (4ULL << 20) - 1) & ~((4ULL << 20) - 1);
    uint64_t region_pages = region_end / PAGE;
    xprint("xen-mm-hostile: nr_pages %lu, region ends 0x%lx\n", (unsigned long)si->nr_pages,
           (unsigned long)region_end);

    /* A new L1 at region_end, from the first padding page. */
    uint64_t t1 = stack_top, t1_pfn = t1 / PAGE, l2e = entry_maddr(si, region_end, 2);
    zero_page(t1);
    expect_rc(mmu1(entry_maddr(si, t1, 1), (t1_pfn << 12) | PTE_P | PTE_A), 0, "t1 read-only");
    expect_rc(mmu1(l2e, (t1_pfn << 12) | UPPER), 0, "t1 linked");

    /* A request list that runs off its mapped memory: the last page of
     * the region holds its first 40 requests, the page after is unmapped. */
    struct xen_mmu_update *edge = (struct xen_mmu_update *)(region_end - 40 * 16);
    for (unsigned i = 0; i < 40; i++)
        edge[i] = (struct xen_mmu_update){(t1_pfn << 12) + (256 + i) * 8,
                                          ((region_pages + i) << 12) | L1_RW | PTE_NX};
    uint32_t done = 0;
    expect_rc(mmu(edge, 100, &done, XEN_DOMID_SELF), -XEN_EFAULT,
              "a list running into unmapped memory: -EFAULT");
    check(done == 40, "pdone: the 40 done over three pieces", "pdone %u", done);
    check(*(volatile uint64_t *)(region_end + (256 + 39) * PAGE) == 0,
          "the 40th is mapped and zeroed", "no");
    done = 7;
    expect_rc(mmu(edge, PREEMPTED | 20, &done, XEN_DOMID_SELF), 0,
              "a forged preempted bit: a continuation of its own");
    check(done == 27, "pdone added to what it said", "pdone %u", done);
    expect_rc(mmu(edge, 1ULL << 32, &done, XEN_DOMID_SELF), -XEN_EINVAL, "a count over 32 bits");
    expect_rc(mmu(edge, 0xffffffffULL, (uint32_t *)0xffff830000000000ULL, XEN_DOMID_SELF),
              -XEN_EFAULT, "pdone in hv");
    expect_rc(mmu(edge, 3, (uint32_t *)(si->pt_base), XEN_DOMID_SELF), -XEN_EFAULT,
              "pdone in its root table");
    expect_rc(mmu(edge, 1, 0, 0x7ff2), -XEN_ESRCH, "DOMID_XEN");
    expect_rc(mmuext(4, t1_pfn, 0x7ff2), -XEN_ESRCH, "mmuext_op for DOMID_XEN");
    expect_rc(mmuext(14, 0, XEN_DOMID_SELF), -XEN_ENOSYS, "an unknown mmuext command");
    expect_rc(mmuext(0xffffffffu, 0, XEN_DOMID_SELF), -XEN_ENOSYS, "command 2^32-1");
    expect_rc(mmuext(5, t1_pfn, XEN_DOMID_SELF), -XEN_EINVAL, "NEW_BASEPTR of an L1");
    expect_rc(mmuext(0, 1ULL << 40, XEN_DOMID_SELF), -XEN_EINVAL, "pin a frame past its RAM");
    expect_rc(mmuext(4, 1ULL << 40, XEN_DOMID_SELF), -XEN_EINVAL, "unpin a frame past its RAM");

    /* A full L1: 512 leaves linked and unlinked 300 times. */
    uint64_t t2 = t1 + PAGE, t2_pfn = t2 / PAGE;
    zero_page(t2);
    for (unsigned i = 0; i < 512; i++)
        ((volatile uint64_t *)t2)[i] = ((region_pages + 64 + i) << 12) | L1_RW | PTE_NX;
    expect_rc(mmu1(entry_maddr(si, t2, 1), (t2_pfn << 12) | PTE_P | PTE_A), 0, "t2 read-only");
    unsigned cycles_ok = 0;
    for (unsigned i = 0; i < 300; i++) {
        reqs[0] = (struct xen_mmu_update){l2e + 8, (t2_pfn << 12) | UPPER};
        reqs[1] = (struct xen_mmu_update){l2e + 8, 0};
        done = 0;
        cycles_ok += mmu(reqs, 2, &done, XEN_DOMID_SELF) == 0 && done == 2;
    }
    check(cycles_ok == 300, "a full L1 linked and unlinked 300 times", "%u", cycles_ok);
    expect_rc(mmu1(l2e + 8, (t2_pfn << 12) | UPPER), 0, "linked once more");
    check(*(volatile uint64_t *)(region_end + (2ULL << 20) + 511 * PAGE) == 0,
          "its last leaf maps fresh RAM", "no");
    expect_rc(mmu1(l2e + 8, 0), 0, "and unlinked");

    /* Every free padding page offered as a table while writable. */
    unsigned refused = 0, pages = 0;
    for (uint64_t va = t2 + PAGE; va + PAGE <= region_end - PAGE; va += PAGE, pages++)
        refused += mmu1(l2e + 16, ((va / PAGE) << 12) | UPPER) == -XEN_EINVAL &&
                   mmuext(0, va / PAGE, XEN_DOMID_SELF) == -XEN_EINVAL;
    check(refused == pages, "every writable padding page refused as a table", "%u of %u", refused,
          pages);
    /* Its console page (hv drains the ring in place) is never a table. */
    uint64_t con = si->console_mfn, con_pte = entry_maddr(si, con * PAGE, 1);
    expect_rc(mmu1(con_pte, (con << 12) | PTE_P | PTE_A | PTE_NX), 0, "console page read-only");
    expect_rc(mmuext(0, con, XEN_DOMID_SELF), -XEN_EINVAL, "the console page pinned: refused");
    expect_rc(mmu1(l2e + 16, (con << 12) | UPPER), -XEN_EINVAL, "the console page linked: refused");
    expect_rc(mmu1(con_pte, (con << 12) | L1_RW | PTE_NX), 0, "console page writable again");
    unsigned pins = 0;
    for (unsigned i = 0; i < 1000; i++)
        pins += mmuext(0, t1_pfn + 1, XEN_DOMID_SELF) == 0 && mmuext(4, t1_pfn + 1, XEN_DOMID_SELF) == 0;
    check(pins == 1000, "pin/unpin 1000 times", "%u", pins);

    /* A multicall of mmu_updates, one of them refused. */
    static struct xen_mmu_update one = {0, 0}, bad = {0, 0};
    one = (struct xen_mmu_update){(t1_pfn << 12) + 100 * 8, ((region_pages + 5) << 12) | L1_RW | PTE_NX};
    bad = (struct xen_mmu_update){(t1_pfn << 12) + 101 * 8, (si->nr_pages << 12) | L1_RW};
    struct xen_multicall_entry mc[2] = {
        {.op = XEN_HC_mmu_update, .args = {(uint64_t)&one, 1, 0, XEN_DOMID_SELF}},
        {.op = XEN_HC_mmu_update, .args = {(uint64_t)&bad, 1, 0, XEN_DOMID_SELF}},
    };
    expect_rc(hcall(XEN_HC_multicall, (uint64_t)mc, 2, 0), 0, "a multicall of two mmu_updates");
    check(mc[0].result == 0 && (long)mc[1].result == -XEN_EINVAL, "their results 0 and -EINVAL",
          "%ld %ld", (long)mc[0].result, (long)mc[1].result);
    check(((volatile uint64_t *)t1)[100] == one.val && ((volatile uint64_t *)t1)[101] == 0 &&
              *(volatile uint64_t *)(region_end + 100 * PAGE) == 0,
          "the first took effect, the second did not", "no");

    xprint("xen-mm-hostile: all %u checks, %u failed\n", checks_run, checks_failed);
    /* Last: the L1 mapping its own code unlinked (its L2's entry 0). */
    xprint("xen-mm-hostile: unlinking the L1 of its own code\n");
    mmu1(entry_maddr(si, (uint64_t)__image_start, 2), 0);
    xprint("xen-mm-hostile: still running\n");
    shutdown(XEN_SHUTDOWN_poweroff);
}
