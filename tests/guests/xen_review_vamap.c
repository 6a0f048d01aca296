/* Xen-ABI test guest (review of the Xen personality): update_va_mapping
 * driven hard, then a fetch that W^X must refuse, with everything still
 * mapped. One data page mapped writable at every free page of its padding,
 * the shared-info page at more, refused values (page-table frames
 * writable, frames past its RAM, hv's special frames but shared info,
 * superpages, addresses outside its region), its page tables' own
 * mappings unmapped and mapped back read-only, the same va remapped a
 * thousand times. Each answer is Xen's (0 or -EINVAL) and nothing outside
 * the region changes; a call into an executable alias of the data page
 * (writable elsewhere) must fault (hv's W^X) and end the guest; the
 * reaping afterwards must find every count and charge back at zero (hv's
 * leak check; a miscount panics in guest_frame_release). */
#include "tests/guests/xen/xen_guest.h"

#define PAGE 4096ULL
#define PTE_P 0x1ULL
#define PTE_W 0x2ULL
#define PTE_PS 0x80ULL
#define PTE_NX (1ULL << 63)
#define MFN_SHARED_INFO 0x80000000ULL

static uint8_t data_page[PAGE] __attribute__((aligned(4096)));

static long uvm(uint64_t va, uint64_t val)
{
    return hcall(XEN_HC_update_va_mapping, va, val, 0);
}

static void expect_rc(long rc, long want, const char *what)
{
    check(rc == want, what, "returned %ld, want %ld", rc, want);
}

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    uint64_t data_pfn = (uint64_t)data_page / PAGE;
    uint64_t pt_pfn = si->pt_base / PAGE;
    uint64_t stack_top = si->pt_base + (si->nr_pt_frames + 1) * PAGE;
    uint64_t ram_end = si->nr_pages * PAGE; /* = the region's end (virt_base 0) */
    uint64_t pad = stack_top, pad_pages = (ram_end - pad) / PAGE;
    xprint("xen-review-vamap: padding 0x%lx-0x%lx (%lu pages), data pfn 0x%lx\n",
           (unsigned long)pad, (unsigned long)ram_end, (unsigned long)pad_pages,
           (unsigned long)data_pfn);
    data_page[0] = 0x42;

    /* Refusals: nothing changes. */
    expect_rc(uvm(pad, (pt_pfn << 12) | PTE_P | PTE_W | PTE_NX), -XEN_EINVAL,
              "its L4 frame writable: -EINVAL");
    expect_rc(uvm(pad, ((pt_pfn + si->nr_pt_frames - 1) << 12) | PTE_P | PTE_W), -XEN_EINVAL,
              "its last table frame writable: -EINVAL");
    expect_rc(uvm(pad, (si->nr_pages << 12) | PTE_P | PTE_NX), -XEN_EINVAL,
              "the first pfn past its RAM: -EINVAL");
    expect_rc(uvm(pad, ((MFN_SHARED_INFO + 1) << 12) | PTE_P | PTE_NX), -XEN_EINVAL,
              "hv's frame after shared info: -EINVAL");
    expect_rc(uvm(pad, (0xffffffffffULL << 12) | PTE_P | PTE_NX), -XEN_EINVAL,
              "the largest frame number: -EINVAL");
    expect_rc(uvm(pad, (data_pfn << 12) | PTE_P | PTE_PS | PTE_NX), -XEN_EINVAL,
              "a superpage: -EINVAL");
    expect_rc(uvm(ram_end, (data_pfn << 12) | PTE_P | PTE_NX), -XEN_EINVAL,
              "at the region's end: -EINVAL");
    expect_rc(uvm(0xffff800000000000ULL, (data_pfn << 12) | PTE_P | PTE_NX), -XEN_EINVAL,
              "over the M2P: -EINVAL");
    expect_rc(uvm(0x00007ffffffff000ULL, (data_pfn << 12) | PTE_P | PTE_NX), -XEN_EINVAL,
              "at the lower half's top: -EINVAL");
    expect_rc(uvm(~0ULL, 0), -XEN_EINVAL, "va ~0: -EINVAL");

    /* The data page writable at every free page of the padding. */
    unsigned mapped = 0;
    for (uint64_t i = 0; i + 16 < pad_pages; i++)
        mapped += uvm(pad + i * PAGE, (data_pfn << 12) | PTE_P | PTE_W | PTE_NX) == 0;
    check(mapped == pad_pages - 16, "data page writable at every padding page",
          "%u of %lu", mapped, (unsigned long)(pad_pages - 16));
    volatile uint8_t *alias = (volatile uint8_t *)(pad + (pad_pages - 17) * PAGE);
    alias[1] = 0x43;
    check(data_page[1] == 0x43 && alias[0] == 0x42, "the aliases are the data page",
          "data[1] 0x%x alias[0] 0x%x", data_page[1], alias[0]);
    /* Executable too, while writable elsewhere: Xen's answer is 0; hv's
     * W^X must hold when it is fetched from (the end of this guest). */
    uint64_t exec_alias = pad + (pad_pages - 16) * PAGE;
    long rc = uvm(exec_alias, (data_pfn << 12) | PTE_P);
    check(rc == 0 || rc == -XEN_EINVAL, "data page executable while writable: 0 or -EINVAL",
          "%ld", rc);
    /* Shared info at the last 15 pages, writable. */
    unsigned shared = 0;
    for (uint64_t i = pad_pages - 15; i < pad_pages; i++)
        shared += uvm(pad + i * PAGE, (MFN_SHARED_INFO << 12) | PTE_P | PTE_W | PTE_NX) == 0;
    check(shared == 15, "shared info writable at 15 pages", "%u", shared);
    /* Its page tables' own mappings: unmapped, then back read-only. */
    unsigned tables = 0;
    for (uint64_t i = 0; i < si->nr_pt_frames; i++)
        tables += uvm(si->pt_base + i * PAGE, 0) == 0;
    for (uint64_t i = 0; i < si->nr_pt_frames; i++)
        tables += uvm(si->pt_base + i * PAGE, ((pt_pfn + i) << 12) | PTE_P | PTE_NX) == 0;
    check(tables == 2 * si->nr_pt_frames, "page tables unmapped and mapped back", "%u", tables);
    /* One va remapped a thousand times, alternating frames and kinds. */
    unsigned churn = 0;
    for (unsigned i = 0; i < 1000; i++) {
        uint64_t val = (i & 1) ? ((MFN_SHARED_INFO << 12) | PTE_P | PTE_W | PTE_NX)
                               : ((data_pfn << 12) | PTE_P | PTE_NX);
        churn += uvm(pad, (i % 3 == 2) ? 0 : val) == 0;
    }
    check(churn == 1000, "one va remapped 1000 times", "%u", churn);
    xprint("xen-review-vamap: %u checks, %u failed; calling 0x%lx, writable elsewhere\n",
           checks_run, checks_failed, (unsigned long)exec_alias);
    data_page[0] = 0xc3; /* ret: if it ran, the next line would print */
    if (rc == 0)
        ((void (*)(void))exec_alias)();
    xprint("xen-review-vamap: ran code from a frame mapped writable\n");
    shutdown(XEN_SHUTDOWN_crash);
}
