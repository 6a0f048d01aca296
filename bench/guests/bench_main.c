/* bench-main: the measuring guest of `make bench` (docs/benchmarks.md).
 *
 * Every figure is a row of `figures[]` (or of `no_smap_figures[]`, the
 * table of bench/run.py's boot without SMAP): a sample function that times
 * one run of the path with a pair of rdtsc and returns the TSC delta. The
 * harness (measure()) takes the warm-up samples, then the kept ones, sorts
 * them and prints one line per figure:
 *
 *     bench: name=N unit=U tsc_median=M tsc_min=m tsc_max=X iterations=I warmup=W events=E target=T
 *
 * tsc_* are TSC cycles per sample with the median of an empty rdtsc pair
 * (`rdtsc_pair`, measured the same way, first) already subtracted; a sample
 * covers `events` occurrences of the path (a ping-pong sample is 2
 * switches). bench/run.py divides by `events`, and by 8 under -icount
 * shift=3, where the TSC advances exactly 8 per instruction. A figure in ns
 * (timer_deadline_late) samples ns itself and prints median=/min=/max=
 * instead, nothing subtracted. A path that fails prints
 * `bench: error name=N reason="R" result=E` and the guest exits with 1.
 *
 * The figures' sample functions are in bench/guests/main/, one file per
 * group (calls.c: hypercalls, the switch and the workload; cpu.c: traps and
 * system calls; events.c: events and the timer); this file is the table
 * and the harness. Adding a figure: write a sample function (time the path
 * between bench_tsc() calls, nothing else) in its group's file, declare it
 * in main/figures.h and add its row. */
#include "bench/guests/main/figures.h"
#include "lib/bench_work.h"
#include "lib/fmt.h"
#include "lib/string.h"

HV_GUEST_NOTE("bench-main", 0, 1, 0);

#define SAMPLES_MAX 4096

struct figure {
    const char *name;
    const char *unit;          /* of the figure per event, under -icount */
    uint64_t target;           /* per event, in unit; 0: bench/run.py judges it */
    uint64_t (*sample)(void);  /* one timed run: a TSC delta, or SAMPLE_FAILED */
    unsigned events;           /* occurrences of the path in one sample */
    unsigned warmup;           /* 0: BENCH_WARMUP */
    unsigned iterations;       /* 0: BENCH_ITERATIONS */
    /* Optional: run before the warm-up and after the last sample; a
     * non-NULL result is the reason the figure is broken. */
    const char *(*before)(void);
    const char *(*after)(void);
};

/* A figure in ns (timer_deadline_late) has samples in ns already, not TSC
 * deltas: no baseline is subtracted, and its line says median=/min=/max=
 * instead of tsc_*=, which bench/run.py takes as they are. */
static bool in_unit(const struct figure *f)
{
    return strcmp(f->unit, "ns") == 0;
}

int64_t last_result;

/* Which boot this is: only boot d's CPU has no SMAP. */
static bool cpu_has_smap(void)
{
    uint32_t a = 0, b, c = 0, d;

    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    if (a < 7)
        return false;
    a = 7;
    c = 0;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return (b >> 20) & 1;
}

/* --- the table ------------------------------------------------------------
 * Order matters: vcpu_switch first, while bench-peer has not yet had a
 * slice of its own (the lockstep count assumes every one of its yields
 * answers one of ours). */
static const struct figure figures[] = {
    { "vcpu_switch", "instructions", 300, sample_vcpu_switch, 2, VCPU_SWITCH_WARMUP,
      VCPU_SWITCH_ITERATIONS, vcpu_switch_before, vcpu_switch_after },
    { "hypercall_null", "instructions", 80, sample_hypercall_null, 1, 0, 0, NULL, NULL },
    /* 16 + 1000 lines of 64 bytes, one per 8 ms (the console's rate). */
    { "hypercall_console_64b", "instructions", 600, sample_console_64b, 1, 16, 0, NULL, NULL },
    { "cpu_workload", "instructions", 0, sample_workload, 1, 1, 5, NULL, NULL },
    /* The paravirtual CPU, after everything above so nothing it registers
     * (trap entries, a user space) is there while those are measured. */
    { "trap_ud_roundtrip", "instructions", 300, sample_trap_ud, 1, 0, 0, ud_iret_before,
      ud_after },
    { "trap_ud_roundtrip_iretq", "instructions", 300, sample_trap_ud, 1, 0, 0, ud_iretq_before,
      ud_after },
    { "trap_pf_roundtrip", "instructions", 350, sample_trap_pf, 1, 0, 0, pf_before, pf_after },
    /* All BOUNCE_SAMPLES samples are taken in bounce_before. */
    { "syscall_bounce", "instructions", 300, sample_syscall_bounce, 1, BENCH_WARMUP,
      BENCH_ITERATIONS, bounce_before, NULL },
    /* Events, last: each registers an upcall entry and a port, and removes
     * them after; event_cross_guest's `after` lets bench-event end, so the
     * timer's vCPU blocks in an otherwise idle system. */
    { "event_self", "instructions", 400, sample_event_self, 1, 0, 0, self_before, self_after },
    { "event_cross_guest", "instructions", 500, sample_event_cross, 1, 0, 0, cross_before,
      cross_after },
    { "timer_deadline_late", "ns", 3000, sample_timer_late, 1, 0, 0, timer_before, timer_after },
};

/* The table of bench/run.py's boot d, whose CPU model has no SMAP (-cpu
 * max,smap=off): bench-main runs this one instead when CPUID shows no SMAP. */
static const struct figure no_smap_figures[] = {
    { "syscall_fast", "instructions", 10, sample_syscall_fast, 1, BENCH_WARMUP, BENCH_ITERATIONS,
      fast_before, fast_after },
};

/* --- the harness ----------------------------------------------------------- */

static uint64_t samples[SAMPLES_MAX];

static void sort(uint64_t *a, unsigned n)
{
    /* Shell sort (Ciura's gaps, then 3x+1): no recursion, no allocation. */
    static const unsigned gaps[] = { 1750, 701, 301, 132, 57, 23, 10, 4, 1 };
    for (unsigned g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
        unsigned gap = gaps[g];
        for (unsigned i = gap; i < n; i++) {
            uint64_t v = a[i];
            unsigned j = i;
            for (; j >= gap && a[j - gap] > v; j -= gap)
                a[j] = a[j - gap];
            a[j] = v;
        }
    }
}

struct result {
    uint64_t median, min, max;
    unsigned iterations;
    uint64_t cr3_per_100_samples; /* hv's CR3 writes, per 100 samples */
};

/* hv's CR3 writes on this CPU so far: a fresh copy in the shared page, made
 * by HV_CALL_VCPU_INFO (0 unless hv.cfg measure_cr3_writes = yes). Two
 * reads in a row differ by what the reading itself costs, cr3_read_cost. */
static uint64_t cr3_read_cost;
static bool cr3_shown; /* hv shows them: else no figure pays for the reads */

static uint64_t cr3_writes(void)
{
    struct hv_vcpu_info info;

    if (hvg_vcpu_info(0, &info) != 0)
        return 0;
    return hvg_vcpu_shared(0)->cr3_writes;
}

static uint64_t cr3_writes_if_shown(void)
{
    return cr3_shown ? cr3_writes() : 0;
}

static uint64_t less_baseline(uint64_t v, uint64_t baseline)
{
    return v > baseline ? v - baseline : 0;
}

/* Takes the samples of one figure; NULL on success, else why it broke. */
static const char *measure(const struct figure *f, uint64_t baseline, struct result *out)
{
    unsigned warmup = f->warmup ? f->warmup : BENCH_WARMUP;
    unsigned n = f->iterations ? f->iterations : BENCH_ITERATIONS;
    const char *why;

    if (n > SAMPLES_MAX)
        return "more iterations than SAMPLES_MAX";
    /* From before `before`: syscall_bounce takes its samples there. */
    uint64_t cr3_start = cr3_writes_if_shown();
    if (f->before && (why = f->before()) != NULL)
        return why;
    for (unsigned i = 0; i < warmup + n; i++) {
        uint64_t t = f->sample();
        if (t == SAMPLE_FAILED)
            return "the path returned an error";
        if (i >= warmup)
            samples[i - warmup] = t;
    }
    uint64_t cr3_spent = cr3_writes_if_shown() - cr3_start;
    cr3_spent = cr3_spent > cr3_read_cost ? cr3_spent - cr3_read_cost : 0;
    out->cr3_per_100_samples = cr3_spent * 100 / (warmup + n);
    if (f->after && (why = f->after()) != NULL)
        return why;
    sort(samples, n);
    if (in_unit(f))
        baseline = 0;
    out->median = less_baseline(samples[(n - 1) / 2], baseline);
    out->min = less_baseline(samples[0], baseline);
    out->max = less_baseline(samples[n - 1], baseline);
    out->iterations = n;
    return NULL;
}

static void print_result(const struct figure *f, const struct result *r)
{
    const char *p = in_unit(f) ? "" : "tsc_"; /* TSC deltas, or values in unit */

    char cr3[32] = "";

    if (cr3_shown) /* one line: the console cuts lines at 160 bytes */
        fmt_format(cr3, sizeof(cr3), " cr3=%llu.%02llu",
                   (unsigned long long)(r->cr3_per_100_samples / 100),
                   (unsigned long long)(r->cr3_per_100_samples % 100));
    hvg_printf("bench: name=%s unit=%s %smedian=%llu %smin=%llu %smax=%llu "
               "iterations=%u warmup=%u events=%u target=%llu%s\n",
               f->name, f->unit, p, (unsigned long long)r->median, p, (unsigned long long)r->min,
               p, (unsigned long long)r->max, r->iterations, f->warmup ? f->warmup : BENCH_WARMUP,
               f->events, (unsigned long long)f->target, cr3);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    const struct figure empty = { "rdtsc_pair", "instructions", 0, sample_empty, 1, 0, 0,
                                  NULL, NULL };
    struct result baseline;
    unsigned failures = 0;

    (void)vcpu;
    /* Boot d restarts it once (bench/figures.py RESTART_CFG): hv_irq_off_max
     * covers the restart's steps; its second life has nothing to measure. */
    if (si->restarts)
        return 0;
    uint64_t first = cr3_writes(); /* hv's first switch to us wrote CR3 */
    cr3_shown = first != 0;
    cr3_read_cost = cr3_shown ? cr3_writes() - first : 0;
    /* The baseline itself is not reduced by anything. */
    if (measure(&empty, 0, &baseline) != NULL)
        return 1;

    /* Nothing is printed until every figure is measured: printing costs
     * console tokens that hypercall_console_64b needs. */
    bool smap = cpu_has_smap();
    const struct figure *table = smap ? figures : no_smap_figures;
    enum { MAX = sizeof(figures) / sizeof(figures[0]) };
    unsigned n = smap ? MAX : sizeof(no_smap_figures) / sizeof(no_smap_figures[0]);
    _Static_assert(sizeof(no_smap_figures) <= sizeof(figures), "results[] holds either table");
    struct result results[MAX];
    const char *errors[MAX];
    int64_t error_results[MAX];
    for (unsigned i = 0; i < n; i++) {
        last_result = 0;
        errors[i] = measure(&table[i], baseline.median, &results[i]);
        error_results[i] = last_result;
        if (errors[i])
            failures++;
    }

    /* bench-event must not outlive us, whatever broke before. */
    if (smap) {
        const char *why = release_event_peer();
        if (why) {
            hvg_printf("bench: error name=event_cross_guest reason=\"%s\" result=%lld\n", why,
                       (long long)last_result);
            failures++;
        }
    }

    print_result(&empty, &baseline);
    for (unsigned i = 0; i < n; i++) {
        if (errors[i])
            hvg_printf("bench: error name=%s reason=\"%s\" result=%lld\n", table[i].name,
                       errors[i], (long long)error_results[i]);
        else
            print_result(&table[i], &results[i]);
    }
    if (smap)
        hvg_printf("bench: name=cpu_workload_check rounds=%u crc=0x%08x\n", BENCH_WORK_ROUNDS,
                   workload_crc);
    else
        hvg_printf("bench: name=syscall_fast_hv_entries entries=%llu calls=%u\n",
                   (unsigned long long)fast_hv_entries, BENCH_WARMUP + BENCH_ITERATIONS);
    hvg_printf("bench: done failures=%u\n", failures);
    return failures ? 1 : 0;
}
