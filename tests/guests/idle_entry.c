/* A vCPU woken while hv sleeps in its idle loop (hv/sched/sched.c: the
 * idle loop's direct entry, sched_idle_interrupted; tests/system/
 * idle_cases.py). Two guests from this image, told apart by name, booted
 * together under -icount:
 *
 *   idle-entry-stack    binds its timer, sleeps 150 ms (hv draws the boot's
 *                       lines), arms its timer 20 ms ahead and blocks
 *                       (HV_CALL_BLOCK) with its stack pointer on an
 *                       unmapped page. The timer wakes it while hv idles
 *                       and the other guest sleeps: the lone vCPU, entered
 *                       from the interrupt, whose upcall frame cannot be
 *                       written. hv must end it ("fault while delivering
 *                       an event upcall: the kernel stack is not writable
 *                       at ...") and go on with the other guest. A block
 *                       that returns prints "FAILED: survived".
 *   idle-entry-sleeper  sleeps to system time 700 ms (past the others'
 *                       ends), then 50 times 1 ms on its timer, the only
 *                       vCPU timer armed: each wakes it from hv's idle
 *                       loop (its timer path, hv/sched/idle_timer.c),
 *                       then polls its timer port 3 times with events
 *                       masked and 3 times unmasked (the timer path's
 *                       fallback: a polling vCPU is wake's), and each
 *                       upcall returns with
 *                       HV_CALL_IRET (the SDK's dispatcher). Prints "all N
 *                       checks passed" and exits 0; the test reads how
 *                       many of those returns hv left to its C path (a
 *                       decision left pending by the wake-up sends them
 *                       there), and how many of the 50 wake-ups gave it
 *                       a runnable interval (its run-state record): the
 *                       direct entry takes it from blocked to running at
 *                       the wake-up's instant, so none but those the
 *                       idle loop's own decision took.
 *   idle-entry-twin-a,  both on one CPU (the test's hv.cfg), sleep 20
 *   idle-entry-twin-b   times to the same deadlines (system time 600 ms +
 *                       2 ms steps, after the others): each timer
 *                       interrupt wakes both, the first wake-up is
 *                       recorded for the direct entry and the second
 *                       completes it as the general path's. Both must
 *                       wake every time, never early, each with a
 *                       runnable interval (both went through the idle
 *                       loop's decision). */
#include "ev_common.h"

HV_GUEST_NOTE("", HVG_MIB(1), 1, 0);

#define SLEEPS 50
#define UNMAPPED_SP 0x0000500000001000ull /* nothing of the guest lives there */

static void stack_gone(unsigned vcpu)
{
    EV_MUST(hvg_events_init(vcpu));
    hvg_printf("%s: blocking with rsp 0x%llx (unmapped); expect the guest to end\n", pv_name,
               (unsigned long long)UNMAPPED_SP);
    /* The screen catches up with the boot's lines first (hv draws in its
     * idle time, with interrupts on, not in its `hlt`). */
    EV_MUST(hvg_sleep_until(vcpu, hvg_now() + HVG_MS(150)));
    /* Nothing left pending from that sleep (the block would not sleep). */
    hvg_events_mask(vcpu);
    volatile struct hv_vcpu_shared *vs = hvg_vcpu_shared(vcpu);
    hvg_evtchn_clear((unsigned)hvg_timer_port(vcpu));
    vs->pending_sel = 0;
    vs->upcall_pending = 0;
    EV_MUST(hvg_set_timer(hvg_now() + HVG_MS(20)));
    /* HV_CALL_BLOCK unmasks and sleeps; rcx and r11 are the syscall's. */
    __asm__ volatile("mov %%rsp, %%rbx\n\t"
                     "mov %[sp], %%rsp\n\t"
                     "syscall\n\t"
                     "mov %%rbx, %%rsp"
                     :
                     : "a"((uint64_t)HV_CALL_BLOCK), [sp] "r"(UNMAPPED_SP)
                     : "rbx", "rcx", "r11", "memory");
    hvg_printf("%s: FAILED: survived (the block returned)\n", pv_name);
    hvg_exit(1);
}

/* Whether the vCPU's run-state record shows a runnable interval since r0. */
static unsigned waited_since(unsigned vcpu, const struct hv_runstate *r0)
{
    struct hv_runstate r1 = hvg_runstate(vcpu);
    return r1.time_ns[HV_RUNSTATE_RUNNABLE] != r0->time_ns[HV_RUNSTATE_RUNNABLE];
}

#define TWIN_ROUNDS 20
#define TWIN_START_NS HVG_MS(600) /* system time: the stack guest has ended */
/* System time: the twins have ended (600 ms + 20 x 2 ms) and been reaped. */
#define SLEEPER_START_NS HVG_MS(700)

/* n sleeps, each to start + i * 2 ms (the twins' shared deadlines) or,
 * with start 0, to 1 ms from now; what they saw, counted. */
struct sleeps {
    unsigned failed, early, waited;
};
static struct sleeps sleep_rounds(unsigned vcpu, unsigned n, uint64_t start)
{
    struct sleeps c = {0, 0, 0};
    for (unsigned i = 0; i < n; i++) {
        uint64_t deadline = start ? start + i * HVG_MS(2) : hvg_now() + HVG_MS(1);
        struct hv_runstate r0 = hvg_runstate(vcpu);
        c.failed += hvg_sleep_until(vcpu, deadline) != 0;
        c.early += hvg_now() < deadline;
        c.waited += waited_since(vcpu, &r0);
    }
    return c;
}

/* n polls (HV_CALL_POLL) on its own timer port, the timer 1 ms ahead,
 * the only vCPU deadline armed: the idle loop's timer path leaves a
 * polling vCPU to the general path (the poll's result, 0, and its end are
 * wake's), and with events masked there is no upcall either. Returns the
 * polls that did not end as the general path ends them: 0 from the poll,
 * not early, the port pending, the SDK's timer count up by one exactly
 * when events were unmasked (its upcall ran). */
static unsigned poll_rounds(unsigned vcpu, unsigned n, bool unmasked)
{
    uint32_t port = (uint32_t)hvg_timer_port(vcpu);
    volatile struct hv_vcpu_shared *vs = hvg_vcpu_shared(vcpu);
    unsigned bad = 0;
    for (unsigned i = 0; i < n; i++) {
        hvg_events_mask(vcpu);
        hvg_evtchn_clear(port);
        vs->pending_sel = 0;
        vs->upcall_pending = 0;
        uint64_t seen = hvg_timer_events(vcpu);
        uint64_t deadline = hvg_now() + HVG_MS(1);
        EV_MUST(hvg_set_timer(deadline));
        if (unmasked)
            vs->upcall_mask = 0; /* nothing pending: no upcall before the poll */
        int64_t r = hvg_poll(&port, 1, 0);
        bool pending = hvg_evtchn_is_pending(port);
        hvg_events_mask(vcpu);
        bad += r != 0 || hvg_now() < deadline ||
               hvg_timer_events(vcpu) != seen + (unmasked ? 1 : 0) || (!unmasked && !pending);
    }
    hvg_evtchn_clear(port);
    vs->pending_sel = 0;
    vs->upcall_pending = 0;
    hvg_events_unmask(vcpu);
    return bad;
}

static int twin(unsigned vcpu)
{
    EV_MUST(hvg_events_init(vcpu));
    expect_eq("the twins' first deadline still ahead", hvg_now() < TWIN_START_NS, 1);
    struct sleeps c = sleep_rounds(vcpu, TWIN_ROUNDS, TWIN_START_NS);
    expect_eq("sleeps to the shared deadlines that failed", c.failed, 0);
    expect_eq("timers that woke it early", c.early, 0);
    expect_eq("wake-ups with a runnable interval", c.waited, TWIN_ROUNDS);
    return pv_finish();
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = si->name;
    if (strcmp(si->name, "idle-entry-stack") == 0)
        stack_gone(vcpu);
    if (strncmp(si->name, "idle-entry-twin", 15) == 0)
        return twin(vcpu);
    EV_MUST(hvg_events_init(vcpu));
    /* Nothing printed from here to the end of the sleeps: hv draws a line
     * on the screen in its idle time with interrupts on (~40 ms at this
     * screen's size), and a timer that comes then is the idle loop's. */
    int64_t first = hvg_sleep_until(vcpu, SLEEPER_START_NS);
    struct sleeps c = sleep_rounds(vcpu, SLEEPS, 0);
    /* Before any line is printed (the screen's drawing would take the
     * timers in the idle loop's interrupts-on stretch). */
    unsigned polls_masked = poll_rounds(vcpu, 3, false);
    unsigned polls_unmasked = poll_rounds(vcpu, 3, true);
    expect_eq("a first sleep to 700 ms", first, 0);
    expect_eq("sleeps of 1 ms that failed", c.failed, 0);
    expect_eq("timers that woke it early", c.early, 0);
    expect_eq("polls on its timer port, events masked, that went wrong", polls_masked, 0);
    expect_eq("polls on its timer port, events unmasked, that went wrong", polls_unmasked, 0);
    hvg_printf("%s: %u of %u wake-ups from idle had a runnable interval\n", pv_name, c.waited,
               SLEEPS);
    return pv_finish();
}
