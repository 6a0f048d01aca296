/* bench-spinpoll: the attacker of fairness_error_pct (docs/benchmarks.md),
 * issue 10's spin-and-poll guest. It spins SPIN_NS, then sleeps in
 * HV_CALL_POLL on a port nobody sends with a deadline POLL_AHEAD_NS ahead,
 * for ever (until the window closes): a scheduler that gives a waking vCPU a
 * fresh slice at the front of the queue hands it nearly all of the CPU. It
 * has the default weight, and reports like bench-fair (bench_fair.h), with
 * the number of polls and how many of them timed out. */
#include "bench/guests/bench_fair.h"
#include "lib/fmt.h"

HV_GUEST_NOTE("", 0, 1, 0);

#define SPIN_NS 9900000ull  /* 9.9 ms */
#define POLL_AHEAD_NS 5000ull /* 5 us */

static uint32_t port;

int main(const struct hv_start_info *si, unsigned vcpu)
{
    struct bench_fair_window w;
    uint64_t polls = 0, timeouts = 0;
    char extra[64];

    (void)si;
    (void)vcpu;
    int64_t p = hvg_evtchn_bind_ipi(0);
    if (p < 0) {
        hvg_printf("bench: error name=fairness_error_pct reason=\"HV_CALL_EVTCHN_BIND_IPI "
                   "failed\" result=%lld\n", (long long)p);
        return 1;
    }
    port = (uint32_t)p;
    bench_fair_join(&w);
    for (;;) {
        uint64_t spin_until = hvg_now() + SPIN_NS;
        while (hvg_now() < spin_until)
            if (bench_fair_step(&w)) {
                fmt_format(extra, sizeof(extra), " polls=%llu timeouts=%llu",
                           (unsigned long long)polls, (unsigned long long)timeouts);
                bench_fair_report(&w, extra);
                return 0;
            }
        polls++;
        if (hvg_poll(&port, 1, hvg_now() + POLL_AHEAD_NS) == -HV_ETIMEDOUT)
            timeouts++;
    }
}
