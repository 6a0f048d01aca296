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

static bool wait_tsc(uint64_t tsc_hz, uint64_t ns)
{
    uint64_t end = rdtsc() + muldiv64(ns, tsc_hz, 1000000000ULL);
    while (rdtsc() < end)
        cpu_relax();
    return true;
}

bool calibrate(const struct acpi_info *acpi, struct calibration *out)
{
    uint64_t tsc_ticks, lapic_ticks;
    out->tsc_hz = tsc_hz_from_cpuid(&out->tsc_source);
    if (out->tsc_hz) {
        /* The TSC is exact: it is the reference for the APIC timer. */
        lapic_timer_free_run();
        uint32_t l0 = lapic_read(LAPIC_REG_TIMER_CURRENT);
        wait_tsc(out->tsc_hz, WINDOW_NS);
        uint32_t l1 = lapic_read(LAPIC_REG_TIMER_CURRENT);
        lapic_write(LAPIC_REG_TIMER_INIT, 0);
        out->lapic_hz = muldiv64(l0 - l1, 1000000000ULL, WINDOW_NS);
        out->lapic_source = "the TSC";
        return out->lapic_hz != 0;
    }
    for (const struct refclock *ref = refclock_pick(acpi); ref; ref = refclock_next(acpi, ref)) {
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
