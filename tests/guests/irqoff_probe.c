/* irqoff-probe: makes hypercalls of known and very different lengths and
 * prints the longest it timed, so a system test can check that hv's
 * interrupts-off measurement (hv.cfg measure_irq_off, hv/debug/irqoff.c;
 * make bench's hv_irq_off_max) finds that call and its length.
 *
 * HV_CALL_MEM_MAP of fresh pages zeroes them with interrupts off: 1, 64
 * and PROBE_PAGES pages, each unmapped again, and many null hypercalls.
 * Each call is timed with an rdtsc pair around its `syscall`, which holds
 * hv's whole stretch plus the entry and exit assembly. A memory call that
 * reports a partial count (bounded hypercalls) is timed per call, and the
 * rest is called for again: the longest single call is what counts.
 * It first sleeps a second (no wall time under -icount), so hv's idle loop
 * sends every line queued so far: once guests run, hv moves console lines
 * at its decisions with interrupts on (hv/sched/sched.c, drain_console),
 * which a call's timing would hold but hv's stretch not.
 * Prints `irqoff-probe: longest call TSC hypercall NR` and exits 0. */
#include "hvg.h"
#include "hvg_cpu.h"
#include "hvg_event.h"

HV_GUEST_NOTE("irqoff-probe", HVG_MIB(32), 1, 0);

#define PROBE_VA 0x100000000ull
#define PROBE_PAGES 1024ull

static uint64_t longest, longest_nr;

static int64_t timed(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                     uint64_t a4)
{
    uint64_t t0 = hvg_rdtsc();
    int64_t r = hvg_hypercall6(nr, a0, a1, a2, a3, a4, 0);
    uint64_t t = hvg_rdtsc() - t0;
    if (t > longest) {
        longest = t;
        longest_nr = nr;
    }
    return r;
}

static bool range(uint64_t nr, uint64_t pages, uint64_t a3, uint64_t a4)
{
    uint64_t va = PROBE_VA;
    while (pages) {
        int64_t r = timed(nr, 0, va, pages, a3, a4);
        if (r < 0) {
            hvg_printf("irqoff-probe: hypercall %llu failed: %lld\n", (unsigned long long)nr,
                       (long long)r);
            return false;
        }
        if (r == 0 || (uint64_t)r >= pages)
            return true;
        va += (uint64_t)r << 12;
        pages -= (uint64_t)r;
    }
    return true;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    static const uint64_t sizes[] = {1, 64, PROBE_PAGES};

    (void)si;
    (void)vcpu;
    hvg_puts("irqoff-probe: mapping 1, 64 and 1024 fresh pages, and 1000 null hypercalls");
    if (hvg_events_init(0) != 0 || hvg_sleep_until(0, hvg_now() + HVG_MS(1000)) != 0) {
        hvg_puts("irqoff-probe: could not sleep");
        return 1;
    }
    for (unsigned i = 0; i < 1000; i++)
        timed(HV_CALL_NOP, 0, 0, 0, 0, 0);
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        if (!range(HV_CALL_MEM_MAP, sizes[i], 0, HV_PROT_READ | HV_PROT_WRITE) ||
            !range(HV_CALL_MEM_UNMAP, sizes[i], 0, 0))
            return 1;
    hvg_printf("irqoff-probe: longest call %llu hypercall %llu\n", (unsigned long long)longest,
               (unsigned long long)longest_nr);
    return 0;
}
