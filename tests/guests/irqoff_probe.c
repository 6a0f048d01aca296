/* irqoff-probe: makes hypercalls of known and very different lengths and
 * prints the longest it timed, so a system test can check that hv's
 * interrupts-off measurement (hv.cfg measure_irq_off, hv/debug/irqoff.c;
 * make bench's hv_irq_off_max) finds that call and its length.
 *
 * HV_CALL_MEM_MAP of fresh pages zeroes them with interrupts off: 1, 64
 * and PROBE_PAGES pages, each unmapped again, and many null hypercalls;
 * then, untimed, HV_CALL_SET_TRAP_TABLE of 256 entries, which hv does in
 * pieces of 32, one per entry (tests/system/bench_cases.py: none is hv's
 * longest stretch).
 * Each call is timed with an rdtsc pair around its `syscall`, which holds
 * hv's whole stretch plus the entry and exit assembly. A memory call that
 * reports a partial count (bounded hypercalls) is timed per call, and the
 * rest is called for again: the longest single call is what counts, each
 * call the cheapest of REPEATS runs. It first sleeps a second (no wall time
 * under -icount), so hv's idle loop sends every line queued so far: once
 * guests run, hv moves console lines at its decisions with interrupts on
 * (hv/sched/console_drain.c), which a call's timing would hold but
 * hv's stretch not.
 * Prints `irqoff-probe: longest call TSC hypercall NR` and exits 0. */
#include "hvg.h"
#include "hvg_cpu.h"
#include "hvg_event.h"

HV_GUEST_NOTE("irqoff-probe", HVG_MIB(32), 1, 0);

#define PROBE_VA 0x100000000ull
#define PROBE_PAGES 1024ull

#define REPEATS 3
#define MAX_CALLS 1024 /* per range: PROBE_PAGES pages, at least one a call */

/* Per range (map and unmap of each size) and call within it, the cheapest
 * of REPEATS runs: an interrupt that lands between a call's return and the
 * second rdtsc (a timer, a reschedule) is its own stretch in hv, and only
 * adds to one run's sample. */
static uint64_t best[6][MAX_CALLS];

static int64_t timed(unsigned which, unsigned call, uint64_t nr, uint64_t a1, uint64_t a2,
                     uint64_t a4)
{
    uint64_t t0 = hvg_rdtsc();
    int64_t r = hvg_hypercall6(nr, 0, a1, a2, 0, a4, 0);
    uint64_t t = hvg_rdtsc() - t0;
    if (call < MAX_CALLS && t < best[which][call])
        best[which][call] = t;
    return r;
}

static bool range(unsigned which, uint64_t nr, uint64_t pages, uint64_t a4)
{
    uint64_t va = PROBE_VA;
    for (unsigned call = 0; pages; call++) {
        int64_t r = timed(which, call, nr, va, pages, a4);
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

/* HV_CALL_SET_TRAP_TABLE of 256 entries as bench-attack's: vectors 0-47
 * get a handler (16 software-interrupt vectors is the most allowed), the
 * rest are removed. */
static struct hv_trap_info table[256];

static void never_entered(void)
{
    for (;;)
        hvg_exit(2); /* nothing here faults */
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    static const uint64_t sizes[] = {1, 64, PROBE_PAGES};

    (void)si;
    (void)vcpu;
    hvg_puts("irqoff-probe: mapping 1, 64 and 1024 fresh pages, 1000 null hypercalls, "
             "256 trap-table entries");
    if (hvg_events_init(0) != 0 || hvg_sleep_until(0, hvg_now() + HVG_MS(1000)) != 0) {
        hvg_puts("irqoff-probe: could not sleep");
        return 1;
    }
    uint64_t longest = UINT64_MAX, longest_nr = HV_CALL_NOP;
    for (unsigned i = 0; i < 1000; i++) {
        uint64_t t0 = hvg_rdtsc();
        hvg_hypercall6(HV_CALL_NOP, 0, 0, 0, 0, 0, 0);
        uint64_t t = hvg_rdtsc() - t0;
        longest = t < longest ? t : longest; /* the null call's cheapest */
    }
    for (unsigned w = 0; w < 6; w++)
        for (unsigned c = 0; c < MAX_CALLS; c++)
            best[w][c] = UINT64_MAX;
    for (unsigned rep = 0; rep < REPEATS; rep++)
        for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
            if (!range(2 * i, HV_CALL_MEM_MAP, sizes[i], HV_PROT_READ | HV_PROT_WRITE) ||
                !range(2 * i + 1, HV_CALL_MEM_UNMAP, sizes[i], 0))
                return 1;
    /* Untimed (its pieces are entries of their own, with the guest's
     * `syscall` between): each piece must be shorter than the memory calls. */
    for (unsigned v = 0; v < 256; v++) {
        table[v].vector = (uint8_t)v;
        table[v].handler = v < 48 ? (uint64_t)(uintptr_t)never_entered : 0;
    }
    for (unsigned rep = 0; rep < REPEATS; rep++)
        if (hvg_set_trap_table(table, 256) != 0 || hvg_set_trap_table(NULL, 0) != 0) {
            hvg_puts("irqoff-probe: HV_CALL_SET_TRAP_TABLE of 256 entries failed");
            return 1;
        }
    for (unsigned w = 0; w < 6; w++)
        for (unsigned c = 0; c < MAX_CALLS && best[w][c] != UINT64_MAX; c++)
            if (best[w][c] > longest) {
                longest = best[w][c];
                longest_nr = w % 2 ? HV_CALL_MEM_UNMAP : HV_CALL_MEM_MAP;
            }
    hvg_printf("irqoff-probe: longest call %llu hypercall %llu\n", (unsigned long long)longest,
               (unsigned long long)longest_nr);
    return 0;
}
