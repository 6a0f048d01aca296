/* Xen-ABI test guest: bad arguments to every Xen hypercall hv answers,
 * each of which must get Xen's error code and change nothing (pointers at
 * hv's memory, at nothing, ranges that run past the lower half, huge
 * counts, unknown commands and numbers; EVTCHNOP_status of every port
 * and of ports past 255; set_gdt and update_descriptor under a storm of
 * the largest tables, bad frames and maddrs), then a long console_io write
 * that hv must take in bounded pieces and continue, then the end with
 * sched_op(shutdown, crash): that ends this guest alone, as a fault,
 * while the companion it is booted with runs on (tests/system/
 * xen_cases.py). */
#include "tests/guests/xen/xen_guest.h"

#include "lib/fmt.h"
#include "lib/string.h"

#define HV_ADDRESS 0xffff888000000000ULL    /* hv's direct map */
#define HV_TEXT 0xffffffff80000000ULL       /* hv's image */
#define NOWHERE 0x00007f0000000000ULL       /* canonical, never mapped for a Xen guest */
#define NONCANONICAL 0x0000900000000000ULL
#define LOWER_END 0x0000800000000000ULL

static void expect_rc(long rc, long want, const char *what)
{
    check(rc == want, what, "returned %ld, want %ld", rc, want);
}

static char long_text[24 * 40 + 1];

/* ---- Descriptors (set_gdt, update_descriptor) and EVTCHNOP_status ---- */

#define FLAT_DATA3 0x00cff2000000ffffULL /* present, DPL 3, writable data */
#define SEL_OWN 0x53                     /* entry 10, RPL 3: one hv installs */
#define GDT_MAX_ENTRIES 7168             /* 14 frames: Xen's FIRST_RESERVED_GDT_PAGE */

static uint64_t gdt_frame[512] __attribute__((aligned(4096)));
static uint64_t gdt_list[16];

/* The access rights the CPU this vCPU runs on holds for sel (lar), or
 * ~0 when lar refuses it (entry past the limit, a system type, DPL). */
static uint32_t access_rights(uint16_t sel)
{
    uint32_t ar = 0;
    uint8_t ok;
    __asm__ volatile("lar %w2, %0\n\tsetz %1" : "=r"(ar), "=q"(ok) : "r"(sel) : "cc");
    return ok ? ar : ~0u;
}

/* Huge counts and pointers at hv, at nothing, past its RAM, and a storm
 * of the largest tables Xen takes (14 frames, all the same frame, and a
 * list that lies inside the very frame it names) while the companion
 * runs: each call is bounded (7168 checks at most) and leaves the CPU's
 * entries as the last accepted table says. */
static void descriptor_storm(const struct xen_start_info *si)
{
    static const uint64_t bad_ptrs[] = {HV_ADDRESS, HV_TEXT, NOWHERE, NONCANONICAL, LOWER_END - 8};
    char what[96];
    uint64_t frame = (uint64_t)gdt_frame >> 12;
    for (unsigned i = 0; i < 512; i++)
        gdt_frame[i] = FLAT_DATA3;
    unsigned bad = 0;
    for (unsigned i = 0; i < sizeof(bad_ptrs) / sizeof(bad_ptrs[0]); i++) {
        bad += hcall(XEN_HC_set_gdt, bad_ptrs[i], 16, 0) != -XEN_EFAULT;
        bad += hcall(XEN_HC_set_gdt, bad_ptrs[i], GDT_MAX_ENTRIES, 0) != -XEN_EFAULT;
    }
    check(!bad, "set_gdt with its frame list at hv, nothing, non-canonical, the half's end: -EFAULT",
          "%u other", bad);
    static const uint64_t huge[] = {GDT_MAX_ENTRIES + 1, 1ULL << 32, (1ULL << 32) + 16, 1ULL << 63, ~0ULL};
    bad = 0;
    for (unsigned i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) /* the count first: list in hv */
        bad += hcall(XEN_HC_set_gdt, HV_ADDRESS, huge[i], 0) != -XEN_EINVAL;
    check(!bad, "set_gdt of 7169, 2^32, 2^32+16, 2^63, 2^64-1 entries: -EINVAL before the list is read",
          "%u other", bad);
    const uint64_t bad_frames[] = {si->nr_pages, si->nr_pages + 1, 0x80000000ULL, 1ULL << 40, ~0ULL};
    bad = 0;
    for (unsigned i = 0; i < sizeof(bad_frames) / sizeof(bad_frames[0]); i++) {
        for (unsigned j = 0; j < 14; j++)
            gdt_list[j] = j == 13 ? bad_frames[i] : frame; /* the bad one last: 13 frames checked first */
        bad += hcall(XEN_HC_set_gdt, (uint64_t)gdt_list, GDT_MAX_ENTRIES, 0) != -XEN_EINVAL;
    }
    check(!bad, "set_gdt naming a frame past its RAM, the shared-info mfn, 2^40, 2^64-1: -EINVAL",
          "%u other", bad);
    /* The storm: 200 tables of 7168 entries, the same frame 14 times. */
    for (unsigned j = 0; j < 14; j++)
        gdt_list[j] = frame;
    bad = 0;
    for (unsigned n = 0; n < 200; n++)
        bad += hcall(XEN_HC_set_gdt, (uint64_t)gdt_list, GDT_MAX_ENTRIES, 0) != 0;
    uint32_t ar = access_rights(SEL_OWN);
    check(!bad && ar != ~0u && (ar >> 8 & 0xfe) == 0xf2, /* the accessed bit aside */
          "200 set_gdt of 7168 entries (one frame 14 times): 0, its entry 10 installed", "%u refused, ar 0x%x",
          bad, ar);
    /* A list inside the frame it names: frame numbers read as descriptors
     * (small values: not present, type 0), which Xen's checks pass. */
    gdt_frame[0] = frame;
    long rc = hcall(XEN_HC_set_gdt, (uint64_t)gdt_frame, 1, 0);
    ar = access_rights(SEL_OWN);
    check(rc == 0 && ar == ~0u, "set_gdt whose list is its own GDT frame (1 entry): 0, entry 10 gone",
          "rc %ld ar 0x%x", rc, ar);
    gdt_frame[0] = 0;
    check(hcall(XEN_HC_set_gdt, (uint64_t)gdt_list, 16, 0) == 0, "set_gdt of its 16 entries again", "refused");

    /* update_descriptor: maddrs outside its RAM, in its tables and code,
     * misaligned; then 2000 rewrites of an installed entry, each seen by
     * the CPU at once. */
    const uint64_t gdt_ma = frame << 12;
    const uint64_t bad_maddrs[] = {
        si->nr_pages << 12, 0x80000000ULL << 12, 1ULL << 52, ~7ULL, HV_ADDRESS, gdt_ma + 10 * 8 + 4,
        si->pt_base, si->pt_base + 4096 - 8, (uint64_t)hypercall_page, (uint64_t)hypercall_page + 64,
    };
    static const char *const maddr_names[] = {
        "past its RAM", "at the shared-info mfn", "at 2^52", "at 2^64-8", "at hv's direct map",
        "misaligned", "into its root table", "into its root table's end", "into its hypercall page",
        "into its hypercall page (a stub)"};
    uint64_t before = *(volatile uint64_t *)si->pt_base;
    for (unsigned i = 0; i < sizeof(bad_maddrs) / sizeof(bad_maddrs[0]); i++) {
        fmt_format(what, sizeof(what), "update_descriptor %s: -EINVAL", maddr_names[i]);
        expect_rc(hcall(XEN_HC_update_descriptor, bad_maddrs[i], FLAT_DATA3, 0), -XEN_EINVAL, what);
    }
    check(*(volatile uint64_t *)si->pt_base == before, "its root table unchanged", "changed");
    bad = 0;
    for (unsigned n = 0; n < 2000; n++) {
        uint64_t d = n % 2 ? FLAT_DATA3 : FLAT_DATA3 & ~(1ULL << 47); /* present / not present */
        d = (d & ~0xffffULL) | (n & 0xffff);                          /* a limit of its own */
        if (hcall(XEN_HC_update_descriptor, gdt_ma + 10 * 8, d, 0) != 0)
            bad++;
        /* lar's view, the accessed bit aside (masked as lar masks) */
        if ((access_rights(SEL_OWN) & 0x00f0fe00) != (uint32_t)(d >> 32 & 0x00f0fe00))
            bad++;
        uint32_t limit = 0;
        __asm__ volatile("lsl %w1, %0" : "+r"(limit) : "r"((uint16_t)SEL_OWN) : "cc");
        if (n % 2 && limit != (uint32_t)(((0xfULL << 16 | (n & 0xffff)) << 12) | 0xfff))
            bad++; /* granular: (limit << 12) | 0xfff */
    }
    check(!bad, "2000 update_descriptor of entry 10 (present / not, a new limit each): each on the CPU at once",
          "%u wrong", bad);
    check(hcall(XEN_HC_set_gdt, 0, 0, 0) == 0 && access_rights(SEL_OWN) == ~0u,
          "set_gdt of 0 entries: its entries gone", "still there");
}

/* EVTCHNOP_status after every port was used up (254 IPIs): its argument
 * at the bad pointers and in its read-only tables, ports past 255 up to
 * 2^32-1, and every port of 0..255 answered as it is. */
static void status_storm(const struct xen_start_info *si)
{
    static const uint64_t bad_ptrs[] = {HV_ADDRESS, HV_TEXT, NOWHERE, NONCANONICAL, LOWER_END - 8};
    struct { uint16_t dom, pad; uint32_t port, status, vcpu, u0, u1; } st;
    _Static_assert(sizeof(st) == 24, "event_channel.h's evtchn_status");
    unsigned bad = 0;
    for (unsigned i = 0; i < sizeof(bad_ptrs) / sizeof(bad_ptrs[0]); i++)
        bad += hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_status, bad_ptrs[i], 0) != -XEN_EFAULT;
    check(!bad, "EVTCHNOP_status argument at hv, nothing, non-canonical, the half's end: -EFAULT", "%u other",
          bad);
    /* Its root table read as a request: L4[0]'s low 16 bits are no
     * domain of its own (-ESRCH), and hv writes nothing there. */
    uint64_t before = *(volatile uint64_t *)si->pt_base;
    long rc = hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_status, si->pt_base, 0);
    check(rc == -XEN_ESRCH && *(volatile uint64_t *)si->pt_base == before,
          "EVTCHNOP_status read from its root table: -ESRCH, the table unchanged", "rc %ld", rc);
    static const uint32_t huge[] = {256, 257, 4095, 4096, 65535, 65536, 1u << 24, 1u << 31, ~0u};
    bad = 0;
    for (unsigned i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
        st = (typeof(st)){.dom = XEN_DOMID_SELF, .port = huge[i]};
        bad += hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_status, (uint64_t)&st, 0) != -XEN_EINVAL;
    }
    for (uint32_t port = 256; port < 256 + 4096; port += 7) {
        st = (typeof(st)){.dom = XEN_DOMID_SELF, .port = port};
        bad += hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_status, (uint64_t)&st, 0) != -XEN_EINVAL;
    }
    check(!bad, "EVTCHNOP_status of ports 256 .. 2^32-1 (594 of them): -EINVAL", "%u other", bad);
    bad = 0;
    for (uint32_t port = 0; port < 256; port++) {
        st = (typeof(st)){.dom = XEN_DOMID_SELF, .port = port, .status = 99, .vcpu = 99, .u0 = 99};
        rc = hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_status, (uint64_t)&st, 0);
        uint32_t want = port == 0 ? 0 : port == 1 ? 2 : 5; /* closed, interdomain (console), IPI */
        bad += rc != 0 || st.status != want || st.vcpu != 0 || st.port != port;
    }
    check(!bad, "EVTCHNOP_status of ports 0..255 with every port an IPI: closed, the console, 254 IPIs",
          "%u wrong", bad);
    st = (typeof(st)){.dom = 0, .port = 2};
    check(hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_status, (uint64_t)&st, 0) == -XEN_ESRCH,
          "EVTCHNOP_status of dom 0: -ESRCH", "other");
}

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    static const uint64_t bad_ptrs[] = {HV_ADDRESS, HV_TEXT, NOWHERE, NONCANONICAL, LOWER_END - 2};
    static const char *const ptr_names[] = {"hv's direct map", "hv's text", "nothing",
                                            "a non-canonical address", "the lower half's end"};
    char what[96];
    descriptor_storm(si); /* first: while the companion runs beside it */
    for (unsigned i = 0; i < sizeof(bad_ptrs) / sizeof(bad_ptrs[0]); i++) {
        uint64_t p = bad_ptrs[i];
        fmt_format(what, sizeof(what), "console_io write from %s: -EFAULT", ptr_names[i]);
        expect_rc(hcall(XEN_HC_console_io, XEN_CONSOLEIO_write, 16, p), -XEN_EFAULT, what);
        fmt_format(what, sizeof(what), "sched_op shutdown reason at %s: -EFAULT", ptr_names[i]);
        expect_rc(hcall(XEN_HC_sched_op, XEN_SCHEDOP_shutdown, p, 0), -XEN_EFAULT, what);
        fmt_format(what, sizeof(what), "xen_version extraversion into %s: -EFAULT", ptr_names[i]);
        expect_rc(hcall(XEN_HC_xen_version, XEN_XENVER_extraversion, p, 0), -XEN_EFAULT, what);
        fmt_format(what, sizeof(what), "xen_version capabilities into %s: -EFAULT", ptr_names[i]);
        expect_rc(hcall(XEN_HC_xen_version, XEN_XENVER_capabilities, p, 0), -XEN_EFAULT, what);
        /* Poll, VCPUOP, bind_ipi: their arguments and a poll's port list. */
        fmt_format(what, sizeof(what), "sched_op poll argument at %s: -EFAULT", ptr_names[i]);
        expect_rc(hcall(XEN_HC_sched_op, XEN_SCHEDOP_poll, p, 0), -XEN_EFAULT, what);
        struct { uint64_t ports; uint32_t n, pad; uint64_t timeout; } poll = {p, 4, 0, 1};
        fmt_format(what, sizeof(what), "sched_op poll ports at %s: -EFAULT", ptr_names[i]);
        expect_rc(hcall(XEN_HC_sched_op, XEN_SCHEDOP_poll, (uint64_t)&poll, 0), -XEN_EFAULT, what);
        fmt_format(what, sizeof(what), "vcpu_op set_periodic_timer at %s: -EFAULT", ptr_names[i]);
        expect_rc(hcall(XEN_HC_vcpu_op, XEN_VCPUOP_set_periodic_timer, 0, p), -XEN_EFAULT, what);
        fmt_format(what, sizeof(what), "vcpu_op set_singleshot_timer at %s: -EFAULT", ptr_names[i]);
        expect_rc(hcall(XEN_HC_vcpu_op, XEN_VCPUOP_set_singleshot_timer, 0, p), -XEN_EFAULT, what);
        fmt_format(what, sizeof(what), "bind_ipi at %s: -EFAULT", ptr_names[i]);
        expect_rc(hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_bind_ipi, p, 0), -XEN_EFAULT, what);
        fmt_format(what, sizeof(what), "set_segment_base GS at %s: refused", ptr_names[i]);
        expect_rc(hcall(XEN_HC_set_segment_base, 2, p, 0), p < LOWER_END ? 0 : -XEN_EINVAL, what);
        /* FS: any canonical base, as Xen (hv never uses FS: one on hv's
         * half only aims the guest's own ring-3 %fs: reads, which fault). */
        int canonical = p < LOWER_END || p >= 0xffff800000000000ULL;
        fmt_format(what, sizeof(what), "set_segment_base FS at %s: %s", ptr_names[i],
                   canonical ? "taken" : "refused");
        expect_rc(hcall(XEN_HC_set_segment_base, XEN_SEGBASE_FS, p, 0), canonical ? 0 : -XEN_EINVAL, what);
        fmt_format(what, sizeof(what), "vcpu_op get_runstate_info into %s: -EFAULT", ptr_names[i]);
        expect_rc(hcall(XEN_HC_vcpu_op, XEN_VCPUOP_get_runstate_info, 0, p), -XEN_EFAULT, what);
        fmt_format(what, sizeof(what), "set_debugreg dr0 at %s: refused", ptr_names[i]);
        expect_rc(hcall(XEN_HC_set_debugreg, 0, p, 0), p < LOWER_END ? 0 : -XEN_EPERM, what);
    }
    hcall(XEN_HC_set_segment_base, 2, 0, 0);
    hcall(XEN_HC_set_segment_base, XEN_SEGBASE_FS, 0, 0);
    /* A bind_ipi whose port cannot be written back: -EFAULT, and the port
     * stays bound (Xen's rule): 254 such calls use every port up. */
    long first = hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_bind_ipi, si->pt_base + 8, 0), last = 0;
    int calls = 1; /* L4[1] is empty: vCPU 0, and the read-only table takes no write */
    while (calls < 300 && (last = hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_bind_ipi,
                                        si->pt_base + 8, 0)) == -XEN_EFAULT)
        calls++;
    check(first == -XEN_EFAULT && last == -XEN_ENOSPC && calls == 254,
          "bind_ipi written back into its page tables: -EFAULT, the port kept (254, then -ENOSPC)",
          "first %ld, %d calls, then %ld", first, calls, last);
    status_storm(si);
    /* Huge counts: the range must lie in the lower half before any byte
     * is read. */
    expect_rc(hcall(XEN_HC_console_io, XEN_CONSOLEIO_write, ~0ULL, (uint64_t)long_text),
              -XEN_EFAULT, "console_io count ~0: -EFAULT");
    expect_rc(hcall(XEN_HC_console_io, XEN_CONSOLEIO_write, LOWER_END, (uint64_t)long_text),
              -XEN_EFAULT, "console_io count past the lower half: -EFAULT");
    expect_rc(hcall(XEN_HC_console_io, 99, 16, (uint64_t)long_text), -XEN_ENOSYS,
              "console_io unknown command: -ENOSYS");
    /* The guest's own page tables are never writable, not even by hv on
     * its behalf; and they stay as they were. */
    uint64_t *l4 = (uint64_t *)si->pt_base;
    uint64_t l4_before = l4[0];
    expect_rc(hcall(XEN_HC_xen_version, XEN_XENVER_extraversion, si->pt_base, 0), -XEN_EFAULT,
              "xen_version into the guest's page tables: -EFAULT");
    check(l4[0] == l4_before, "page tables unchanged", "L4[0] 0x%lx, was 0x%lx",
          (unsigned long)l4[0], (unsigned long)l4_before);
    /* A buffer that runs off the end of the guest's memory: the part in
     * it may be written, the call fails. */
    uint64_t ram_end = si->nr_pages * 4096;
    expect_rc(hcall(XEN_HC_xen_version, XEN_XENVER_capabilities, ram_end - 512, 0), -XEN_EFAULT,
              "xen_version capabilities across the end of RAM: -EFAULT");
    expect_rc(hcall(XEN_HC_sched_op, XEN_SCHEDOP_shutdown, (uint64_t)&(uint32_t){99}, 0),
              -XEN_EINVAL, "sched_op shutdown reason 99: -EINVAL");
    expect_rc(hcall(XEN_HC_sched_op, XEN_SCHEDOP_remote_shutdown, 0, 0), -XEN_EPERM,
              "sched_op remote_shutdown: -EPERM");
    expect_rc(hcall(XEN_HC_sched_op, 1000, 0, 0), -XEN_ENOSYS, "sched_op unknown: -ENOSYS");
    expect_rc(hcall(XEN_HC_sched_op, XEN_SCHEDOP_yield, 0, 0), 0, "sched_op yield: 0");
    for (uint64_t nr = 40; nr < 128; nr += 7) {
        fmt_format(what, sizeof(what), "hypercall %lu: -ENOSYS", (unsigned long)nr);
        expect_rc(hcall((unsigned)nr, HV_ADDRESS, ~0ULL, HV_ADDRESS), -XEN_ENOSYS, what);
    }
    expect_rc(raw_hypercall(1ULL << 40, 0, 0, 0), -XEN_ENOSYS, "hypercall 2^40: -ENOSYS");
    /* 24 lines in one console_io: more than one piece, continued by hv. */
    char *p = long_text;
    for (int i = 0; i < 24; i++)
        p += fmt_format(p, 41, "xen-hostile: long write line %02d.......\n", i);
    expect_rc(hcall(XEN_HC_console_io, XEN_CONSOLEIO_write, strlen(long_text),
                    (uint64_t)long_text), 0, "console_io of 24 lines: 0");
    xprint("xen-hostile: %u checks, %u failed; crashing on purpose\n", checks_run, checks_failed);
    shutdown(XEN_SHUTDOWN_crash);
}
