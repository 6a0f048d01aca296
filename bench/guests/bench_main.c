/* bench-main: the measuring guest of `make bench` (docs/benchmarks.md).
 *
 * Every figure is a row of `figures[]`: a sample function that times one
 * run of the path with a pair of rdtsc and returns the TSC delta. The
 * harness (measure()) takes the warm-up samples, then the kept ones, sorts
 * them and prints one line per figure:
 *
 *     bench: name=N unit=U tsc_median=M tsc_min=m tsc_max=X iterations=I warmup=W events=E target=T
 *
 * tsc_* are TSC cycles per sample with the median of an empty rdtsc pair
 * (`rdtsc_pair`, measured the same way, first) already subtracted; a sample
 * covers `events` occurrences of the path (a ping-pong sample is 2
 * switches). bench/run.py divides by `events`, and by 8 under -icount
 * shift=3, where the TSC advances exactly 8 per instruction. A path that
 * fails prints `bench: error name=N reason="R" result=E` and the guest
 * exits with 1.
 *
 * Adding a figure: write a sample function (time the path between
 * bench_tsc() calls, nothing else) and add its row. */
#include "hvg.h"

#include "bench/guests/bench.h"
#include "lib/bench_work.h"

HV_GUEST_NOTE("bench-main", 0, 1, 0);

#define SAMPLES_MAX 4096
#define SAMPLE_FAILED UINT64_MAX

/* rdtsc with the 64-bit assembly inside the asm, so every sample function
 * pays the same fixed instructions around its body: rdtsc, shl, or, and the
 * move that saves the first reading (measured by sample_empty). */
static inline uint64_t bench_tsc(void)
{
    uint64_t t;

    __asm__ volatile("rdtsc\n\tshl $32, %%rdx\n\tor %%rdx, %%rax" : "=a"(t) : : "rdx");
    return t;
}

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

/* Why the last sample failed (a hypercall's result), for the error line. */
static int64_t last_result;

/* --- rdtsc_pair: the cost every other sample pays for being timed -------- */

static uint64_t __attribute__((noinline)) sample_empty(void)
{
    uint64_t t0 = bench_tsc();
    return bench_tsc() - t0;
}

/* --- hypercall_null: syscall -> hv dispatch of HV_CALL_NOP -> sysret ----- */

static uint64_t __attribute__((noinline)) sample_hypercall_null(void)
{
    uint64_t t0 = bench_tsc();
    int64_t r = hvg_hypercall0(HV_CALL_NOP);
    uint64_t t1 = bench_tsc();

    last_result = r;
    return r == 0 ? t1 - t0 : SAMPLE_FAILED;
}

/* --- hypercall_console_64b: one whole 64-byte line through console_write - */

static const char console_line[] =
    "hypercall_console_64b: 64 bytes through HV_CALL_CONSOLE_WRITE..\n";
_Static_assert(sizeof(console_line) - 1 == 64, "the console figure writes 64 bytes");

static uint64_t __attribute__((noinline)) sample_console_64b(void)
{
    uint64_t t0 = bench_tsc();
    int64_t r = hvg_console_write(console_line, 64);
    uint64_t t1 = bench_tsc();

    /* -HV_EAGAIN (the rate limit) breaks the figure: a refused write costs
     * far less than a taken one and would pull the median down. */
    last_result = r;
    return r == 64 ? t1 - t0 : SAMPLE_FAILED;
}

/* --- vcpu_switch: yield to bench-peer, which yields straight back -------- */

static uint64_t guests_running(void)
{
    struct hv_guest_info info;

    if (hvg_guest_info(&info) != 0)
        return 0;
    return info.guests_running;
}

static const char *vcpu_switch_before(void)
{
    /* Exactly the two of us, or a yield would land somewhere else. */
    return guests_running() == 2 ? NULL : "bench-peer is not the only other guest running";
}

static const char *vcpu_switch_after(void)
{
    /* Releases the peer's last yield; it exits, and we are alone again. */
    hvg_yield();
    return guests_running() == 1 ? NULL : "bench-peer did not end in lockstep";
}

static uint64_t __attribute__((noinline)) sample_vcpu_switch(void)
{
    uint64_t t0 = bench_tsc();
    int64_t r = hvg_yield();
    uint64_t t1 = bench_tsc();

    last_result = r;
    return r == 0 ? t1 - t0 : SAMPLE_FAILED;
}

/* --- cpu_workload: lib/bench_work.c in ring 3, compared by bench/run.py with
 * hv's native run of the same object code ------------------------------- */

static uint32_t workload_crc;

static uint64_t __attribute__((noinline)) sample_workload(void)
{
    uint64_t t0 = bench_tsc();
    uint32_t crc = bench_workload(BENCH_WORK_ROUNDS);
    uint64_t t1 = bench_tsc();

    workload_crc = crc;
    return t1 - t0;
}

/* --- the table ------------------------------------------------------------
 * Order matters: vcpu_switch first, while bench-peer has not yet had a
 * slice of its own (the lockstep count assumes every one of its yields
 * answers one of ours); hypercall_console_64b early, while this guest's
 * console tokens (64 KiB burst) are nearly all there. */
static const struct figure figures[] = {
    { "vcpu_switch", "instructions", 400, sample_vcpu_switch, 2, VCPU_SWITCH_WARMUP,
      VCPU_SWITCH_ITERATIONS, vcpu_switch_before, vcpu_switch_after },
    { "hypercall_null", "instructions", 60, sample_hypercall_null, 1, 0, 0, NULL, NULL },
    /* 16 + 1000 lines of 64 bytes: 65,024 of the 65,536-byte burst. */
    { "hypercall_console_64b", "instructions", 600, sample_console_64b, 1, 16, 0, NULL, NULL },
    { "cpu_workload", "instructions", 0, sample_workload, 1, 1, 5, NULL, NULL },
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
};

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
    if (f->before && (why = f->before()) != NULL)
        return why;
    for (unsigned i = 0; i < warmup + n; i++) {
        uint64_t t = f->sample();
        if (t == SAMPLE_FAILED)
            return "the path returned an error";
        if (i >= warmup)
            samples[i - warmup] = t;
    }
    if (f->after && (why = f->after()) != NULL)
        return why;
    sort(samples, n);
    out->median = less_baseline(samples[(n - 1) / 2], baseline);
    out->min = less_baseline(samples[0], baseline);
    out->max = less_baseline(samples[n - 1], baseline);
    out->iterations = n;
    return NULL;
}

static void print_result(const struct figure *f, const struct result *r)
{
    hvg_printf("bench: name=%s unit=%s tsc_median=%llu tsc_min=%llu tsc_max=%llu "
               "iterations=%u warmup=%u events=%u target=%llu\n",
               f->name, f->unit, (unsigned long long)r->median, (unsigned long long)r->min,
               (unsigned long long)r->max, r->iterations, f->warmup ? f->warmup : BENCH_WARMUP,
               f->events, (unsigned long long)f->target);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    const struct figure empty = { "rdtsc_pair", "instructions", 0, sample_empty, 1, 0, 0,
                                  NULL, NULL };
    struct result baseline;
    unsigned failures = 0;

    (void)si;
    (void)vcpu;
    /* The baseline itself is not reduced by anything. */
    if (measure(&empty, 0, &baseline) != NULL)
        return 1;

    /* Nothing is printed until every figure is measured: printing costs
     * console tokens that hypercall_console_64b needs. */
    struct result results[sizeof(figures) / sizeof(figures[0])];
    const char *errors[sizeof(figures) / sizeof(figures[0])];
    int64_t error_results[sizeof(figures) / sizeof(figures[0])];
    for (unsigned i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
        last_result = 0;
        errors[i] = measure(&figures[i], baseline.median, &results[i]);
        error_results[i] = last_result;
        if (errors[i])
            failures++;
    }

    print_result(&empty, &baseline);
    for (unsigned i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
        if (errors[i])
            hvg_printf("bench: error name=%s reason=\"%s\" result=%lld\n", figures[i].name,
                       errors[i], (long long)error_results[i]);
        else
            print_result(&figures[i], &results[i]);
    }
    hvg_printf("bench: name=cpu_workload_check rounds=%u crc=0x%08x\n", BENCH_WORK_ROUNDS,
               workload_crc);
    hvg_printf("bench: done failures=%u\n", failures);
    return failures ? 1 : 0;
}
