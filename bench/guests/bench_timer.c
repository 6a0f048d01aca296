/* bench-timer: timer_late_under_attack (docs/benchmarks.md). The same
 * measurement as bench-main's timer_deadline_late -- HV_CALL_SET_TIMER, then
 * HV_CALL_BLOCK until the timer's upcall, whose first instruction reads the
 * TSC; the figure is that moment in system time minus the deadline -- but
 * with bench-attack beside it, making the most expensive hypercalls it can
 * back to back (bench/guests/bench_attack.c). While this guest sleeps, the
 * attacker has the CPU; the timer's interrupt waits for whatever hypercall
 * the attacker is in, and so does the upcall.
 *
 * The deadlines are 100 us plus a varying 0-63 us ahead, so the timer
 * falls at different points of the attacker's loop. After TIMER_ATTACK_WARMUP
 * timers, it takes samples for TIMER_ATTACK_NS of system time (bench.h).
 * Prints, like bench-main:
 *
 *     bench: name=timer_late_under_attack unit=ns median=M min=m max=X iterations=I warmup=W events=1 target=T
 *
 * and `bench: error ...` and exit status 1 when the path broke. */
#include "hvg.h"
#include "hvg_event.h"

#include "bench/guests/bench.h"
#include "bench/guests/bench_clock.h"

/* Named after its file (bench/run.py puts it on the ESP as bench-timer). */
HV_GUEST_NOTE("", 0, 1, 0);

#define TIMER_BASE_NS 100000  /* as timer_deadline_late: the vCPU sleeps */
#define TIMER_SPREAD_NS 64000 /* plus (i * 7919) % 64 us: 64 phases */
#define TARGET_NS 50000

volatile struct hv_vcpu_shared *timer_vcpu;
volatile uint64_t *timer_word; /* the port's word of evtchn_pending */
uint64_t timer_bit;            /* the port's bit in it */
volatile uint64_t timer_upcalls, timer_stamp;

void timer_upcall(void);
void timer_iret_failed(int64_t error);

/* The upcall, as bench-main's bench_timer_upcall: the TSC first; then
 * abi_event.h's protocol for the one port (clear upcall_pending, exchange
 * pending_sel with 0, clear the pending bit) and HV_CALL_IRET. Only ever
 * entered right after the `syscall` of bench_block() (events are masked
 * outside it), whose result (0) the frame gives back in rax and whose
 * clobber rdx is. */
__asm__(".pushsection .text\n"
        "timer_upcall:\n\trdtsc\n\tshl $32, %rdx\n\tor %rdx, %rax\n\t"
        "mov %rax, timer_stamp(%rip)\n\tincq timer_upcalls(%rip)\n\t"
        "pushq $0\n\tpush %r11\n\tpush %rcx\n\tpushq $0\n\t"
        "mov timer_vcpu(%rip), %rax\n\tmovb $0, (%rax)\n\t"
        "xor %ecx, %ecx\n\txchg %rcx, 16(%rax)\n\t"
        "mov timer_word(%rip), %rax\n\tmov timer_bit(%rip), %rcx\n\t"
        "lock btr %rcx, (%rax)\n\t"
        "mov $10, %eax\n\tsyscall\n\tmov %rax, %rdi\n\tand $-16, %rsp\n\t"
        "call timer_iret_failed\n"
        ".popsection\n");

static void fail(const char *why, int64_t result)
{
    hvg_printf("bench: error name=timer_late_under_attack reason=\"%s\" result=%lld\n", why,
               (long long)result);
    hvg_exit(1);
}

void timer_iret_failed(int64_t error)
{
    fail("the upcall's HV_CALL_IRET failed", error);
}

static uint64_t samples[TIMER_ATTACK_SAMPLES_MAX];

/* One timer: ns from its deadline to its upcall's first instruction. */
static uint64_t sample(unsigned i)
{
    uint64_t seen = timer_upcalls;
    uint64_t deadline = hvg_now() + TIMER_BASE_NS + HVG_US((i * 7919u) % 64);
    int64_t r = hvg_set_timer(deadline);

    while (r == 0 && timer_upcalls == seen) {
        r = bench_block();
        hvg_events_mask(0);
    }
    if (r != 0 || timer_upcalls != seen + 1)
        fail("HV_CALL_SET_TIMER/HV_CALL_BLOCK did not bring exactly one upcall", r);
    uint64_t fired = bench_system_ns_at(timer_stamp);
    if (fired < deadline)
        fail("the upcall came before the deadline", (int64_t)(fired - deadline));
    return fired - deadline;
}

static void sort(uint64_t *v, unsigned n)
{
    for (unsigned gap = n / 2; gap; gap /= 2)
        for (unsigned i = gap; i < n; i++)
            for (unsigned j = i; j >= gap && v[j - gap] > v[j]; j -= gap) {
                uint64_t t = v[j];
                v[j] = v[j - gap];
                v[j - gap] = t;
            }
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;
    int64_t port = hvg_evtchn_bind_virq(HV_VIRQ_TIMER);
    if (port < 0 || port >= HV_EVTCHN_PORTS)
        fail("HV_CALL_EVTCHN_BIND_VIRQ(HV_VIRQ_TIMER) failed", port);
    timer_vcpu = hvg_vcpu_shared(0);
    timer_word = &hvg_shared()->evtchn_pending[port / 64];
    timer_bit = (uint64_t)port % 64;
    hvg_events_mask(0);
    int64_t r = hvg_set_upcall((uint64_t)(uintptr_t)timer_upcall);
    if (r != 0)
        fail("HV_CALL_SET_UPCALL failed", r);

    unsigned warmup = TIMER_ATTACK_WARMUP, n = 0;
    for (unsigned i = 0; i < warmup; i++)
        sample(i);
    uint64_t until = hvg_now() + TIMER_ATTACK_NS;
    while (n < TIMER_ATTACK_SAMPLES_MAX && hvg_now() < until) {
        samples[n] = sample(warmup + n);
        n++;
    }
    sort(samples, n);
    hvg_printf("bench: name=timer_late_under_attack unit=ns median=%llu min=%llu max=%llu "
               "iterations=%u warmup=%u events=1 target=%u\n",
               (unsigned long long)samples[(n - 1) / 2], (unsigned long long)samples[0],
               (unsigned long long)samples[n - 1], n, warmup, TARGET_NS);
    return 0;
}
