/* bench-main's figures of plain calls: the rdtsc pair every sample pays,
 * the null hypercall, a 64-byte console write, the switch to bench-peer
 * and back, and the ring-3 workload cpu_overhead_pct compares. */
#include "bench/guests/main/figures.h"
#include "lib/bench_work.h"

/* --- rdtsc_pair: the cost every other sample pays for being timed -------- */

uint64_t __attribute__((noinline)) sample_empty(void)
{
    uint64_t t0 = bench_tsc();
    return bench_tsc() - t0;
}

/* --- hypercall_null: syscall -> hv dispatch of HV_CALL_NOP -> sysret ----- */

uint64_t __attribute__((noinline)) sample_hypercall_null(void)
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

/* The console's rate limit (docs/abi.md) counts output bytes: this line is
 * 78 on the serial line ("[bench-main] ", 64 bytes, CR LF), and after a
 * 2 KiB burst a guest may write 10,080 a second, one such line per 7.74 ms.
 * Each sample first waits that long (untimed) since the last, so every
 * timed call is taken whole. */
#define CONSOLE_LINE_INTERVAL_NS 8000000ull
static uint64_t console_next_ns;

uint64_t __attribute__((noinline)) sample_console_64b(void)
{
    while (hvg_now() < console_next_ns)
        hvg_yield();
    uint64_t t0 = bench_tsc();
    int64_t r = hvg_console_write(console_line, 64);
    uint64_t t1 = bench_tsc();
    console_next_ns = hvg_now() + CONSOLE_LINE_INTERVAL_NS;

    /* -HV_EAGAIN (the rate limit) breaks the figure: a refused write costs
     * far less than a taken one and would pull the median down. */
    last_result = r;
    return r == 64 ? t1 - t0 : SAMPLE_FAILED;
}

/* --- vcpu_switch: yield to bench-peer, which yields straight back -------- */

uint64_t guests_running(void)
{
    struct hv_guest_info info;

    if (hvg_guest_info(&info) != 0)
        return 0;
    return info.guests_running;
}

const char *vcpu_switch_before(void)
{
    /* Exactly the two of us runnable, or a yield would land somewhere else. */
    return guests_running() == 2 + blocked_event_peer()
               ? NULL : "bench-peer is not the only other guest running";
}

const char *vcpu_switch_after(void)
{
    /* Releases the peer's last yield; it exits, and we are alone again. */
    hvg_yield();
    return guests_running() == 1 + blocked_event_peer()
               ? NULL : "bench-peer did not end in lockstep";
}

uint64_t __attribute__((noinline)) sample_vcpu_switch(void)
{
    uint64_t t0 = bench_tsc();
    int64_t r = hvg_yield();
    uint64_t t1 = bench_tsc();

    last_result = r;
    return r == 0 ? t1 - t0 : SAMPLE_FAILED;
}

/* --- cpu_workload: lib/bench_work.c in ring 3, compared by bench/run.py with
 * hv's native run of the same object code ------------------------------- */

uint32_t workload_crc;

uint64_t __attribute__((noinline)) sample_workload(void)
{
    uint64_t t0 = bench_tsc();
    uint32_t crc = bench_workload(BENCH_WORK_ROUNDS);
    uint64_t t1 = bench_tsc();

    workload_crc = crc;
    return t1 - t0;
}
