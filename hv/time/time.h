/* Time in the hypervisor: the calibrated TSC is the monotonic clock, and the
 * local APIC timer (TSC-deadline mode where the CPU has it) raises one-shot
 * interrupts at absolute deadlines on that clock. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/cpu/x86.h"
#include "hv/time/timescale.h"

#include "hv/acpi/acpi.h"
#include "hv/handoff.h"

/* Starts the local APIC and the calibration window, which stays open while
 * boot sets up the screen: time_init closes it. debug_gap: see
 * calibrate_begin (0 normally). */
void time_calibration_begin(const struct acpi_info *acpi, uint64_t debug_gap);
void time_init(const struct acpi_info *acpi, const struct handoff *h);

struct hv_time_info;
/* A guest's time area: the TSC scaling and the wall clock at time zero. */
void time_fill_info(struct hv_time_info *t);

/* The TSC's scaling to system time (clock.c). `fast` when `premul` holds
 * it (a TSC of 0.5 Hz or more: always, in practice): one shift and one
 * multiply, no general case. */
struct time_clock {
    struct timescale tsc_to_ns;
    struct timescale_premul premul;
    uint64_t tsc_at_boot;
    bool fast;
};
extern struct time_clock time_clock;
uint64_t time_now_ns_general(uint64_t tsc_delta);

/* Since efi_main was entered. Inline: hv reads its clock several times on
 * every switch, wake-up and timer interrupt. */
static inline uint64_t time_now_ns(void)
{
    uint64_t delta = rdtsc() - time_clock.tsc_at_boot;
    if (__builtin_expect(time_clock.fast, 1))
        return timescale_apply_premul(&time_clock.premul, delta);
    return time_now_ns_general(delta);
}
uint64_t time_tsc_hz(void);
/* Spins ns of system time (hv.cfg's debug knobs of AP bring-up and park). */
void time_spin_ns(uint64_t ns);
uint64_t time_lapic_hz(void);

/* One-shot timer: `fn` runs in interrupt context once time_now_ns() has
 * reached deadline_ns. Re-arming replaces the previous deadline; 0 cancels. */
typedef void (*timer_fn)(uint64_t now_ns);
void timer_set_handler(timer_fn fn);
void timer_arm(uint64_t deadline_ns);
/* This CPU's APIC timer set up like the boot CPU's, nothing armed (time_init
 * does the boot CPU's; an AP calls it at bring-up). Each CPU keeps its own
 * deadline (struct percpu). */
void timer_init_this_cpu(void);
/* The timer interrupt's own part (spent, EOI, the clock): the reading if
 * the deadline armed has passed or is at most `early` ns away (it stays
 * armed: timer_take_due takes it), else 0 (none armed, or the rest
 * programmed). The idle loop's timer path (hv/sched/idle_timer.c) calls
 * it with its advance. */
uint64_t timer_interrupt_near(uint64_t early);
/* The deadline taken (cleared) and now returned if it has passed; else it
 * is programmed again (an early interrupt) and 0 returned. */
uint64_t timer_take_due(uint64_t now);
/* The idle loop's, before its `hlt` (idle_timer.c): the hardware armed
 * `advance` ns before the deadline, if it would come later. */
void timer_arm_early(uint64_t advance);
/* timer_arm for a caller that runs with interrupts off (the scheduler). */
void timer_arm_irqs_off(uint64_t deadline_ns);
/* Moves the deadline earlier to deadline_ns, never later (the idle loop's
 * screen refresh: the handler, woken early, re-arms for the rest). */
void timer_arm_no_later(uint64_t deadline_ns);

/* Boot self-check: `ticks` timer interrupts at `hz`, with the elapsed time
 * logged for the system tests to compare against QEMU's clock. */
void timer_selfcheck(uint32_t hz, uint32_t ticks);
