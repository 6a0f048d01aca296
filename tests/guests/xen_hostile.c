/* Xen-ABI test guest: bad arguments to every Xen hypercall hv answers,
 * each of which must get Xen's error code and change nothing (pointers at
 * hv's memory, at nothing, ranges that run past the lower half, huge
 * counts, unknown commands and numbers), then a long console_io write
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

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    static const uint64_t bad_ptrs[] = {HV_ADDRESS, HV_TEXT, NOWHERE, NONCANONICAL, LOWER_END - 2};
    static const char *const ptr_names[] = {"hv's direct map", "hv's text", "nothing",
                                            "a non-canonical address", "the lower half's end"};
    char what[96];
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
        fmt_format(what, sizeof(what), "set_debugreg dr0 at %s: refused", ptr_names[i]);
        expect_rc(hcall(XEN_HC_set_debugreg, 0, p, 0), p < LOWER_END ? 0 : -XEN_EPERM, what);
    }
    hcall(XEN_HC_set_segment_base, 2, 0, 0);
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
