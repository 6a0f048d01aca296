#include "hv/time/calibrate.h"

#include "hv/console/log.h"
#include "hv/cpu/features.h"
#include "hv/cpu/x86.h"
#include "hv/time/lapic.h"
#include "hv/time/refclock.h"
#include "hv/time/timescale.h"

/* 5 ms: the error is the two ends' jitter (a reference tick, 100 ns for an
 * HPET of >= 10 MHz, 279 ns for the PM timer, and a read of it, ~1 us on a
 * PC) over the window: ~2 parts in 10^4 at worst, far inside what a
 * scheduler needs. Every extra ms is 125,000 instructions of boot under
 * QEMU -icount (shift=3) and a ms of a real PC's boot; 10 ms were 1.25 M
 * of boot_first_guest (docs/benchmarks.md). Where CPUID gives the TSC's
 * frequency (leaf 0x15), the TSC is the reference, exact to a cycle. */
#define WINDOW_NS 5000000ULL
#define DIVIDE_BY_1 0xb

/* CPUID 0x15 gives the TSC as a ratio of the core crystal; where the crystal
 * frequency itself is missing, 0x16 gives the base frequency, which is the
 * TSC's on the CPUs that report 0x15 at all. Exact, no measurement. */
static uint64_t tsc_hz_from_cpuid(const char **source)
{
    if (cpu_features()->max_leaf < 0x15)
        return 0;
    struct cpuid_regs r = cpuid(0x15, 0);
    if (r.eax && r.ebx && r.ecx) {
        *source = "CPUID leaf 0x15";
        return muldiv64(r.ecx, r.ebx, r.eax);
    }
    if (r.eax && r.ebx && cpu_features()->max_leaf >= 0x16) {
        uint32_t base_mhz = cpuid(0x16, 0).eax & 0xffff;
        if (base_mhz) {
            *source = "CPUID leaf 0x16";
            return (uint64_t)base_mhz * 1000000ULL;
        }
    }
    return 0;
}

static void lapic_timer_free_run(void)
{
    lapic_write(LAPIC_REG_TIMER_DIVIDE, DIVIDE_BY_1);
    lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_LVT_MASKED | LAPIC_TIMER_ONESHOT);
    lapic_write(LAPIC_REG_TIMER_INIT, 0xffffffffu);
}

/* Counts TSC and APIC timer ticks across one reference window. */
static bool measure(const struct refclock *ref, uint64_t *tsc_ticks, uint64_t *lapic_ticks)
{
    lapic_timer_free_run();
    uint32_t l0 = lapic_read(LAPIC_REG_TIMER_CURRENT);
    uint64_t t0 = rdtsc();
    if (!ref->wait_ns(WINDOW_NS))
        return false;
    uint64_t t1 = rdtsc();
    uint32_t l1 = lapic_read(LAPIC_REG_TIMER_CURRENT);
    lapic_write(LAPIC_REG_TIMER_INIT, 0);
    *tsc_ticks = t1 - t0;
    *lapic_ticks = l0 - l1; /* counts down; 2^32 ticks outlast any window */
    return *tsc_ticks > 0 && *lapic_ticks > 0 && l1 != 0;
}

/* One reading of the reference, the TSC and the APIC timer, as nearly at
 * one instant as the CPU allows: the TSC read before and after the other
 * two, the best of INSTANT_TRIES by that spread. A gap between the reads
 * (an SMI on a PC, the host descheduling QEMU) would put its whole length
 * into one clock's count and not the others': on a loaded host a 5 ms
 * window once measured a 14 GHz TSC that way. The TSC of the instant is
 * the middle of the best spread, so its error is half that spread. */
#define INSTANT_TRIES 8

struct instant {
    uint64_t ref;   /* ref_read's value; 0 without one */
    uint64_t tsc;
    uint32_t lapic;
};

/* debug_calibration_gap: the first try of the window's closing reading is
 * cut by a pause this long (TSC cycles), as an SMI or a host pause would
 * cut it (at one end only: the same pause at both ends would cancel). */
static uint64_t debug_gap_cycles;

static void read_instant(uint64_t (*ref_read)(void), struct instant *best, uint64_t gap)
{
    uint64_t best_spread = ~0ULL;
    for (unsigned i = 0; i < INSTANT_TRIES; i++) {
        uint64_t before = rdtsc();
        uint32_t lapic = lapic_read(LAPIC_REG_TIMER_CURRENT);
        uint64_t ref = ref_read ? ref_read() : 0;
        if (i == 0 && gap)
            while (rdtsc() - before < gap)
                cpu_relax();
        uint64_t after = rdtsc();
        if (after - before < best_spread) {
            best_spread = after - before;
            *best = (struct instant){ref, before + best_spread / 2, lapic};
        }
    }
}

/* The window opened by calibrate_begin: boot does other work (the screen)
 * inside it instead of spinning for it. Boot CPU, once. */
static struct {
    uint64_t tsc_hz;         /* from CPUID, or 0: measure it */
    const char *tsc_source;
    const struct refclock *ref; /* the stopwatch's clock, or NULL */
    struct refclock_stopwatch sw;
    struct instant start;
} window;

void calibrate_begin(const struct acpi_info *acpi, uint64_t debug_gap)
{
    debug_gap_cycles = debug_gap;
    window.tsc_hz = tsc_hz_from_cpuid(&window.tsc_source);
    window.ref = NULL;
    if (!window.tsc_hz) {
        const struct refclock *ref = refclock_pick(acpi);
        if (ref && ref->read)
            window.ref = ref;
    }
    lapic_timer_free_run();
    read_instant(window.ref ? window.ref->read : NULL, &window.start, 0);
    if (window.ref)
        refclock_stopwatch_start(window.ref, &window.sw, window.start.ref);
}

/* The TSC is exact: it is the reference for the APIC timer. */
static bool end_on_exact_tsc(struct calibration *out)
{
    uint64_t end = window.start.tsc + muldiv64(WINDOW_NS, window.tsc_hz, 1000000000ULL);
    while (rdtsc() < end)
        cpu_relax();
    struct instant stop;
    read_instant(NULL, &stop, debug_gap_cycles);
    lapic_write(LAPIC_REG_TIMER_INIT, 0);
    out->tsc_hz = window.tsc_hz;
    out->tsc_source = window.tsc_source;
    out->lapic_hz = muldiv64(window.start.lapic - stop.lapic, window.tsc_hz,
                             stop.tsc - window.start.tsc);
    out->lapic_source = "the TSC";
    return out->lapic_hz != 0;
}

/* The stopwatch's clock: the window is whatever boot spent since the
 * start, at least WINDOW_NS, measured exactly in the clock's ticks. */
static bool end_on_stopwatch(struct calibration *out)
{
    if (!refclock_stopwatch_wait(&window.sw, WINDOW_NS))
        return false;
    struct instant stop;
    read_instant(window.ref->read, &stop, debug_gap_cycles);
    lapic_write(LAPIC_REG_TIMER_INIT, 0);
    uint64_t ref_hz, ref_ticks = refclock_stopwatch_stop(&window.sw, stop.ref, &ref_hz);
    /* The APIC timer counts down from 2^32 - 1: at 0 it ran out and its
     * count says nothing. */
    if (!ref_ticks || stop.tsc <= window.start.tsc || stop.lapic == 0 ||
        stop.lapic >= window.start.lapic)
        return false;
    out->tsc_hz = muldiv64(stop.tsc - window.start.tsc, ref_hz, ref_ticks);
    out->lapic_hz = muldiv64(window.start.lapic - stop.lapic, ref_hz, ref_ticks);
    out->tsc_source = out->lapic_source = window.ref->name;
    return out->tsc_hz && out->lapic_hz;
}
bool calibrate_end(const struct acpi_info *acpi, struct calibration *out)
{
    uint64_t tsc_ticks, lapic_ticks;
    if (window.tsc_hz)
        return end_on_exact_tsc(out);
    const struct refclock *ref = refclock_pick(acpi);
    if (window.ref) {
        if (end_on_stopwatch(out))
            return true;
        log_warn("time: the %s does not advance; trying the next reference", window.ref->name);
        ref = refclock_next(acpi, window.ref);
    }
    /* No stopwatch (the PIT only times waits) or it failed: a window of
     * its own on each remaining clock. */
    for (; ref; ref = refclock_next(acpi, ref)) {
        if (!measure(ref, &tsc_ticks, &lapic_ticks)) {
            log_warn("time: the %s does not advance; trying the next reference", ref->name);
            continue;
        }
        out->tsc_hz = muldiv64(tsc_ticks, 1000000000ULL, WINDOW_NS);
        out->lapic_hz = muldiv64(lapic_ticks, 1000000000ULL, WINDOW_NS);
        out->tsc_source = out->lapic_source = ref->name;
        return true;
    }
    return false;
}
