/* The monotonic clock and the one-shot timer built on the calibration. */
#include "hv/console/log.h"
#include "hv/cpu/features.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"
#include "hv/debug/panic.h"
#include "hv/time/calibrate.h"
#include "hv/time/lapic.h"
#include "hv/time/time.h"
#include "hv/time/timescale.h"
#include "hv/time/wallclock.h"
#include "include/hv/abi.h"

#define NS_PER_SEC 1000000000ULL
#define DIVIDE_BY_1 0xb

static struct calibration cal;
static struct timescale ns_to_tsc, ns_to_lapic, tsc_to_lapic;
struct time_clock time_clock; /* time_now_ns's (time.h) */
#define tsc_to_ns time_clock.tsc_to_ns
#define tsc_at_boot time_clock.tsc_at_boot
static bool use_tsc_deadline;
/* Each CPU's one-shot timer (struct percpu: timer_deadline,
 * timer_hw_deadline, timer_hw_armed), on its own local APIC:
 *  - the deadline asked for (0: none);
 *  - when the hardware will interrupt (UINT64_MAX: not armed, or not before
 *    the deadline could matter). Re-arming for a later deadline leaves it
 *    as it is: the interrupt then comes early, finds time_now_ns() <
 *    deadline and programs the rest (timer_interrupt). The scheduler moves
 *    its deadline later on nearly every switch, and the early interrupt
 *    comes at most once per run, where an APIC write (or a TSC_DEADLINE
 *    wrmsr) and a conversion on every switch cost more. Linux's
 *    clockevents reprogram the same way, only for an earlier expiry;
 *  - whether the hardware has an interrupt programmed that has not come
 *    yet. A cancel with nothing programmed has nothing to undo (every
 *    decision from idle that finds no deadline cancels). */
static timer_fn handler;

/* System time at a TSC reading. */
static inline uint64_t ns_at(uint64_t tsc)
{
    uint64_t delta = tsc - tsc_at_boot;
    if (time_clock.fast)
        return timescale_apply_premul(&time_clock.premul, delta);
    return timescale_apply(&tsc_to_ns, delta);
}

uint64_t time_now_ns_general(uint64_t delta)
{
    return timescale_apply(&tsc_to_ns, delta);
}

__attribute__((cold)) void time_spin_ns(uint64_t ns)
{
    uint64_t until = time_now_ns() + ns;
    while (time_now_ns() < until)
        cpu_relax();
}

uint64_t time_tsc_hz(void)
{
    return cal.tsc_hz;
}

uint64_t time_lapic_hz(void)
{
    return cal.lapic_hz;
}

void timer_set_handler(timer_fn fn)
{
    handler = fn;
}

/* Programs the hardware for the current deadline, with a clock reading of
 * its own: the deadline becomes a TSC value, which TSC-deadline mode takes
 * as it is (exact whenever it is written). A one-shot APIC count runs from
 * the moment it is written, so the count is converted first and what has
 * passed since the reading, read again just before the write, is taken
 * off it in one multiply: a `now` read earlier, by the caller, made every
 * interrupt late by the time in between (once 297 instructions, 2.4 us
 * under -icount; then 70 with this function's own conversions after its
 * reading; now about 10). Counts are rounded up, never short: an interrupt
 * before the deadline would find nothing due and cost a whole second
 * round. The APIC's 32-bit count may not reach a far deadline; the
 * interrupt then comes early and timer_interrupt programs the rest. */
static void program_at(uint64_t deadline)
{
    this_cpu()->timer_hw_deadline = UINT64_MAX;
    this_cpu()->timer_hw_armed = deadline != 0;
    if (!deadline) {
        if (use_tsc_deadline)
            wrmsr(MSR_TSC_DEADLINE, 0);
        else
            lapic_write(LAPIC_REG_TIMER_INIT, 0);
        return;
    }
    uint64_t tsc = rdtsc();
    uint64_t now = ns_at(tsc);
    uint64_t delta = deadline > now ? deadline - now : 0;
    if (use_tsc_deadline) {
        uint64_t ticks = timescale_apply_ceil(&ns_to_tsc, delta);
        /* (A TSC deadline of 0 disarms: the present is never 0, the TSC runs.) */
        wrmsr(MSR_TSC_DEADLINE, ticks > UINT64_MAX - tsc ? UINT64_MAX : tsc + ticks);
        this_cpu()->timer_hw_deadline = deadline;
        return;
    }
    uint64_t count = timescale_apply_ceil(&ns_to_lapic, delta);
    if (count > 0xffffffffULL)
        count = 0xffffffffULL; /* fires early, at an unknown time: never lazy then */
    else
        this_cpu()->timer_hw_deadline = deadline;
    uint64_t passed = timescale_apply_short(&tsc_to_lapic, rdtsc() - tsc);
    count = count > passed ? count - passed : 1; /* 0 would stop the timer */
    lapic_write(LAPIC_REG_TIMER_INIT, (uint32_t)count);
}

static void program(void)
{
    program_at(this_cpu()->timer_deadline);
}

void timer_arm_early(uint64_t advance)
{
    /* Not when the early time has passed: the hardware keeps the exact
     * deadline (an early interrupt refused meanwhile programmed it). */
    uint64_t deadline = this_cpu()->timer_deadline;
    if (deadline > advance && deadline - advance < this_cpu()->timer_hw_deadline &&
        deadline - advance > time_now_ns())
        program_at(deadline - advance);
}

void timer_arm_irqs_off(uint64_t deadline_ns)
{
    this_cpu()->timer_deadline = deadline_ns;
    /* A later deadline than the hardware's: its interrupt re-arms. A cancel
     * leaves the hardware as it is: its interrupt, if it comes, finds no
     * deadline and does nothing, and meanwhile a deadline no earlier than
     * the programmed one needs no write (the scheduler cancels whenever a
     * vCPU runs alone and arms again when another wants the CPU). */
    if (deadline_ns && deadline_ns < this_cpu()->timer_hw_deadline)
        program();
}

void timer_arm(uint64_t deadline_ns)
{
    uint64_t flags = irq_save();
    this_cpu()->timer_deadline = deadline_ns;
    /* A cancel here is never lazy (the end of the run wants no interrupt
     * left). */
    if (deadline_ns ? deadline_ns < this_cpu()->timer_hw_deadline : this_cpu()->timer_hw_armed)
        program();
    irq_restore(flags);
}

void timer_arm_no_later(uint64_t deadline_ns)
{
    uint64_t flags = irq_save();
    uint64_t deadline = this_cpu()->timer_deadline;
    if (deadline_ns && (!deadline || deadline_ns < deadline))
        timer_arm(deadline_ns);
    irq_restore(flags);
}

uint64_t timer_interrupt_near(uint64_t early)
{
    this_cpu()->ticks++;
    lapic_eoi();
    this_cpu()->timer_hw_deadline = UINT64_MAX; /* one-shot: it is spent */
    this_cpu()->timer_hw_armed = false;
    uint64_t now = time_now_ns();
    uint64_t deadline = this_cpu()->timer_deadline;
    if (!deadline)
        return 0;
    if (now + early < deadline) {
        program();
        return 0;
    }
    return now;
}

uint64_t timer_take_due(uint64_t now)
{
    if (now < this_cpu()->timer_deadline) {
        program();
        return 0;
    }
    this_cpu()->timer_deadline = 0;
    return now;
}

static void timer_interrupt(struct trap_frame *f)
{
    (void)f;
    uint64_t now = timer_interrupt_near(0);
    if (now && handler)
        handler(timer_take_due(now));
}

static bool wall_valid;
static uint64_t wall_sec;
static uint32_t wall_nsec;

void time_fill_info(struct hv_time_info *t)
{
    t->version++; /* odd: being written */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    t->tsc_to_ns_mul = tsc_to_ns.mul;
    t->tsc_shift = tsc_to_ns.shift;
    t->tsc_timestamp = tsc_at_boot;
    t->system_time_ns = 0;
    t->wall_valid = wall_valid;
    t->wall_sec = wall_sec;
    t->wall_nsec = wall_nsec;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    t->version++;
}

__attribute__((cold)) void time_calibration_begin(const struct acpi_info *acpi, uint64_t debug_gap)
{
    if (!lapic_init(acpi->have_madt ? acpi->lapic_phys : 0))
        panic("time: no usable local APIC");
    calibrate_begin(acpi, debug_gap);
}

/* This CPU's APIC timer in the mode the boot CPU chose, on VEC_TIMER,
 * nothing armed. The calibration is shared: every CPU's APIC timer and
 * TSC run from the same crystal. */
__attribute__((cold)) void timer_init_this_cpu(void)
{
    if (use_tsc_deadline) {
        lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_TIMER_TSC_DEADLINE | VEC_TIMER);
        /* Intel SDM: order the LVT write before the first deadline write. */
        __asm__ volatile("mfence" ::: "memory");
    } else {
        lapic_write(LAPIC_REG_TIMER_DIVIDE, DIVIDE_BY_1);
        lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_TIMER_ONESHOT | VEC_TIMER);
    }
}

__attribute__((cold)) void time_init(const struct acpi_info *acpi, const struct handoff *h)
{
    if (!calibrate_end(acpi, &cal))
        panic("time: no reference clock to calibrate the TSC against");
    /* Time zero is the stub's entry, so boot costs show in timestamps. */
    tsc_at_boot = h->boot_tsc;
    timescale_init(&tsc_to_ns, cal.tsc_hz, NS_PER_SEC);
    time_clock.fast = timescale_premul_init(&time_clock.premul, &tsc_to_ns);
    timescale_init(&ns_to_tsc, NS_PER_SEC, cal.tsc_hz);
    timescale_init(&ns_to_lapic, NS_PER_SEC, cal.lapic_hz);
    timescale_init(&tsc_to_lapic, cal.tsc_hz, cal.lapic_hz);
    use_tsc_deadline = cpu_features()->tsc_deadline;
    /* The stub read the clock as it started, which is system time zero
     * give or take the few milliseconds of reading the ESP. */
    wall_valid = wallclock_to_epoch(&h->boot_time, &wall_sec, &wall_nsec);
    if (wall_valid)
        log_info("time: wall clock at boot %lu s since the epoch (UTC)", (unsigned long)wall_sec);
    else
        log_warn("time: the firmware clock is unset or invalid; guests get no wall clock");

    log_info("time: TSC %lu.%06lu MHz (from %s)%s, APIC timer %lu.%06lu MHz (from %s)",
             (unsigned long)(cal.tsc_hz / 1000000), (unsigned long)(cal.tsc_hz % 1000000),
             cal.tsc_source, cpu_features()->invariant_tsc ? ", invariant" : "",
             (unsigned long)(cal.lapic_hz / 1000000), (unsigned long)(cal.lapic_hz % 1000000),
             cal.lapic_source);
    if (!cpu_features()->invariant_tsc)
        log_info("time: the CPU does not promise a constant-rate TSC (expected under emulators)");

    irq_register(VEC_TIMER, timer_interrupt);
    timer_init_this_cpu();
    log_info("time: timer in %s mode", use_tsc_deadline ? "TSC-deadline" : "one-shot");
}

static volatile uint32_t selfcheck_left;
static uint64_t selfcheck_period, selfcheck_next;

static void selfcheck_tick(uint64_t now)
{
    (void)now;
    if (selfcheck_left && --selfcheck_left) {
        /* Absolute deadlines: lateness of one tick does not shift the rest. */
        selfcheck_next += selfcheck_period;
        timer_arm(selfcheck_next);
    }
}

__attribute__((cold)) void timer_selfcheck(uint32_t hz, uint32_t ticks)
{
    selfcheck_period = NS_PER_SEC / hz;
    selfcheck_left = ticks;
    timer_set_handler(selfcheck_tick);
    uint64_t irq_before = this_cpu()->ticks;
    uint64_t tsc0 = rdtsc();
    uint64_t ns0 = time_now_ns();
    selfcheck_next = ns0 + selfcheck_period;
    timer_arm(selfcheck_next);
    while (selfcheck_left) {
        /* sti;hlt is atomic: no interrupt slips in between them. */
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    }
    uint64_t tsc1 = rdtsc();
    uint64_t ns1 = time_now_ns();
    timer_set_handler(NULL);
    log_info("timer: %u ticks at %u Hz took %lu ns, %lu TSC cycles, %lu interrupts", ticks, hz,
             (unsigned long)(ns1 - ns0), (unsigned long)(tsc1 - tsc0),
             (unsigned long)(this_cpu()->ticks - irq_before));
}
