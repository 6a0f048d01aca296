/* Xen-ABI test guest: the start of day a Xen PV guest is promised (Xen's
 * public xen.h "Start-of-day memory layout", struct start_info, the
 * registers of a 64-bit PV vCPU at entry, the initial page tables in
 * Xen's format, the hypercall page's 64-bit stubs), checked from inside;
 * then xen_version answers, unknown hypercalls, and the end through
 * sched_op(shutdown, poweroff). Every check prints a line; the system test
 * (tests/system/xen_cases.py) wants them all "ok". The guest is one RWX
 * segment, so its first write to data and its stack's first use of the
 * image both take hv's W^X flip. */
#include "tests/guests/xen/xen_guest.h"

#include "lib/string.h"

#define PAGE 4096ULL
#define MIB (1ULL << 20)
#define ADDR_MASK 0x000ffffffffff000ULL

static uint64_t page_up(uint64_t v)
{
    return (v + PAGE - 1) & ~(PAGE - 1);
}

static volatile uint64_t written_data = 1; /* .data: a write flips its page */

/* Xen-format page-table walk of the guest's own initial tables (va =
 * pfn << 12: virt_base 0): the L1 entry of va, or 0 with *level the level
 * where the walk found nothing; *upper_ok false if an upper entry's flags
 * are not P|RW|U|A|D. */
static uint64_t walk(uint64_t pt_base, uint64_t va, int *level, int *upper_ok)
{
    uint64_t table = pt_base;
    *upper_ok = 1;
    for (int l = 4; l >= 1; l--) {
        unsigned shift = 12 + 9 * (l - 1);
        uint64_t e = ((volatile uint64_t *)table)[(va >> shift) & 511];
        *level = l;
        if (!(e & 1))
            return 0;
        if (l == 1)
            return e;
        if ((e & ~ADDR_MASK) != XEN_PTE_UPPER_FLAGS)
            *upper_ok = 0;
        table = e & ADDR_MASK;
    }
    return 0;
}

static void check_start_info(const struct xen_start_info *si)
{
    check(memcmp(si->magic, "xen-3.0-x86_64", 15) == 0, "start_info magic", "'%.32s'", si->magic);
    check(si->shared_info == 0x80000000ULL << 12, "start_info shared_info",
          "0x%lx (want a machine address above all RAM)", (unsigned long)si->shared_info);
    check(si->flags == 0, "start_info flags", "0x%x", si->flags);
    check(si->store_evtchn == 0, "start_info store_evtchn 0 (no xenstore)", "%u",
          si->store_evtchn);
    check(si->console_evtchn != 0, "start_info console evtchn", "%u", si->console_evtchn);
    check(si->mod_start == 0 && si->mod_len == 0 && si->cmd_line[0] == 0,
          "start_info no modules, empty command line", "mod 0x%lx+0x%lx",
          (unsigned long)si->mod_start, (unsigned long)si->mod_len);
}

static void check_layout(const struct xen_start_info *si, uint64_t *v_end)
{
    uint64_t kend = page_up((uint64_t)_end);
    uint64_t p2m_pages = page_up(si->nr_pages * 8) / PAGE;
    uint64_t start_info = (uint64_t)si;
    check(si->mfn_list == kend, "P2M list right after the image", "0x%lx, image ends 0x%lx",
          (unsigned long)si->mfn_list, (unsigned long)kend);
    check(start_info == si->mfn_list + p2m_pages * PAGE, "start_info after the P2M list",
          "0x%lx", (unsigned long)start_info);
    check(si->store_mfn == start_info / PAGE + 1 && si->console_mfn == start_info / PAGE + 2,
          "xenstore and console pages after start_info", "store 0x%lx console 0x%lx",
          (unsigned long)si->store_mfn, (unsigned long)si->console_mfn);
    check(si->pt_base == start_info + 3 * PAGE, "page tables after the console page",
          "pt_base 0x%lx", (unsigned long)si->pt_base);
    uint64_t stack_top = si->pt_base + si->nr_pt_frames * PAGE + PAGE;
    check(entry_regs[7] == stack_top, "rsp at the top of the boot stack after the tables",
          "rsp 0x%lx, want 0x%lx", (unsigned long)entry_regs[7], (unsigned long)stack_top);
    *v_end = (stack_top + 512 * 1024 + 4 * MIB - 1) & ~(4 * MIB - 1);
    check(si->nr_pages * PAGE >= *v_end, "nr_pages covers the mapped region",
          "nr_pages %lu, region to 0x%lx", (unsigned long)si->nr_pages, (unsigned long)*v_end);
    const volatile uint64_t *p2m = (const uint64_t *)si->mfn_list;
    uint64_t bad = 0;
    for (uint64_t i = 0; i < si->nr_pages; i++)
        if (p2m[i] != i)
            bad++;
    check(bad == 0, "P2M list is the identity", "%lu entries differ", (unsigned long)bad);
}

static void check_registers(const struct xen_start_info *si)
{
    static const char *const names[] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
                                        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
    check(entry_regs[4] == (uint64_t)si, "rsi = start_info at entry", "0x%lx",
          (unsigned long)entry_regs[4]);
    for (int i = 0; i < 16; i++)
        if (i != 4 && i != 7)
            check(entry_regs[i] == 0, names[i], "0x%lx at entry, want 0", (unsigned long)entry_regs[i]);
    check(entry_regs[16] & (1u << 9), "interrupts enabled (IF) at entry", "rflags 0x%lx",
          (unsigned long)entry_regs[16]);
}

static void check_tables(const struct xen_start_info *si, uint64_t v_end)
{
    uint64_t pt_lo = si->pt_base, pt_hi = si->pt_base + si->nr_pt_frames * PAGE;
    uint64_t wrong = 0, first_wrong = 0, upper_bad = 0;
    for (uint64_t va = 0; va < v_end; va += PAGE) {
        int level, upper_ok;
        uint64_t e = walk(si->pt_base, va, &level, &upper_ok);
        uint64_t want = va | ((va >= pt_lo && va < pt_hi) ? 0x21 : 0x23);
        if (e != want && !wrong++)
            first_wrong = va;
        upper_bad += !upper_ok;
    }
    check(wrong == 0, "initial tables map [0, v_end) 1:1, P|RW|A, tables read-only",
          "%lu pages wrong, first 0x%lx", (unsigned long)wrong, (unsigned long)first_wrong);
    check(upper_bad == 0, "upper-level entries P|RW|U|A|D", "%lu walks saw other flags",
          (unsigned long)upper_bad);
    int level, upper_ok;
    check(walk(si->pt_base, v_end, &level, &upper_ok) == 0, "nothing mapped at v_end",
          "0x%lx is mapped", (unsigned long)v_end);
}

static void check_hypercall_page(void)
{
    const uint8_t *p = (const uint8_t *)hypercall_page;
    unsigned bad = 0, first = 0;
    for (unsigned i = 0; i < 128; i++) {
        const uint8_t *s = p + i * 32;
        uint8_t want[32];
        unsigned n = 0;
        memset(want, 0xcc, sizeof(want));
        want[n++] = 0x51, want[n++] = 0x41, want[n++] = 0x53;
        if (i == 23)
            want[n++] = 0x50;
        want[n++] = 0xb8, want[n++] = (uint8_t)i, want[n++] = 0, want[n++] = 0, want[n++] = 0;
        want[n++] = 0x0f, want[n++] = 0x05;
        if (i != 23)
            want[n++] = 0x41, want[n++] = 0x5b, want[n++] = 0x59, want[n++] = 0xc3;
        if (memcmp(s, want, 32) != 0 && !bad++)
            first = i;
    }
    check(bad == 0, "hypercall page: Xen's 64-bit stubs, iret's without return",
          "%u stubs differ, first %u", bad, first);
    check(stub_keeps_rcx_r11(), "a stub keeps rcx and r11", "clobbered");
}

static void check_calls(void)
{
    long v = hcall(XEN_HC_xen_version, XEN_XENVER_version, 0, 0);
    check(v == ((4 << 16) | 17), "xen_version: 4.17", "0x%lx", (unsigned long)v);
    char extra[16];
    memset(extra, 0x5a, sizeof(extra));
    long rc = hcall(XEN_HC_xen_version, XEN_XENVER_extraversion, (uint64_t)extra, 0);
    int padded = rc == 0 && strcmp(extra, ".0-hv") == 0;
    for (unsigned i = 6; i < sizeof(extra); i++)
        padded &= extra[i] == 0;
    check(padded, "xen_version extraversion, zero-padded", "rc %ld", rc);
    uint32_t feat[2] = {0, 0xffffffff};
    rc = hcall(XEN_HC_xen_version, XEN_XENVER_get_features, (uint64_t)feat, 0);
    check(rc == 0 && feat[1] == 0, "xen_version get_features: none", "rc %ld submap 0x%x", rc,
          feat[1]);
    check(hcall(XEN_HC_xen_version, XEN_XENVER_pagesize, 0, 0) == 4096, "xen_version pagesize",
          "not 4096");
    uint64_t virt_start = 0;
    rc = hcall(XEN_HC_xen_version, XEN_XENVER_platform_parameters, (uint64_t)&virt_start, 0);
    check(rc == 0 && virt_start == XEN_HYPERVISOR_VIRT_START, "xen_version platform_parameters",
          "rc %ld virt_start 0x%lx", rc, (unsigned long)virt_start);
    check(hcall(XEN_HC_xen_version, 77, 0, 0) == -XEN_ENOSYS, "xen_version unknown cmd: -ENOSYS",
          "other");
    check(hcall(XEN_HC_argo_op, 0, 0, 0) == -XEN_ENOSYS, "argo_op: -ENOSYS", "other");
    check(hcall(127, 0, 0, 0) == -XEN_ENOSYS, "hypercall 127: -ENOSYS", "other");
    check(raw_hypercall(0x7fffffffULL, 0, 0, 0) == -XEN_ENOSYS, "hypercall 0x7fffffff: -ENOSYS",
          "other");
    check(raw_hypercall(~0ULL, 0, 0, 0) == -XEN_ENOSYS, "hypercall ~0: -ENOSYS", "other");
    written_data++;
    check(written_data == 2, "writes to the image's data (W^X flip)", "%lu",
          (unsigned long)written_data);
}

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    uint64_t v_end;
    xprint("xen-boot: nr_pages %lu, pt_base 0x%lx (%lu frames), mfn_list 0x%lx\n",
           (unsigned long)si->nr_pages, (unsigned long)si->pt_base,
           (unsigned long)si->nr_pt_frames, (unsigned long)si->mfn_list);
    check_start_info(si);
    check_registers(si);
    check_layout(si, &v_end);
    check_tables(si, v_end);
    check_hypercall_page();
    check_calls();
    if (checks_failed == 0)
        xprint("xen-boot: all %u checks passed\n", checks_run);
    else
        xprint("xen-boot: %u of %u checks failed\n", checks_failed, checks_run);
    shutdown(XEN_SHUTDOWN_poweroff);
}
