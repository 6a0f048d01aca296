/* Time in the hypervisor: the calibrated TSC is the monotonic clock, and the
 * local APIC timer (TSC-deadline mode where the CPU has it) raises one-shot
 * interrupts at absolute deadlines on that clock. */
#pragma once

#include <stdint.h>

#include "hv/acpi/acpi.h"
#include "hv/handoff.h"

void time_init(const struct acpi_info *acpi, const struct handoff *h);

struct hv_time_info;
/* A guest's time area: the TSC scaling and the wall clock at time zero. */
void time_fill_info(struct hv_time_info *t);

uint64_t time_now_ns(void);   /* since efi_main was entered */
uint64_t time_tsc_hz(void);
uint64_t time_lapic_hz(void);

/* One-shot timer: `fn` runs in interrupt context once time_now_ns() has
 * reached deadline_ns. Re-arming replaces the previous deadline; 0 cancels. */
typedef void (*timer_fn)(uint64_t now_ns);
void timer_set_handler(timer_fn fn);
void timer_arm(uint64_t deadline_ns);
/* timer_arm for a caller that runs with interrupts off (the scheduler). */
void timer_arm_irqs_off(uint64_t deadline_ns);
/* Moves the deadline earlier to deadline_ns, never later (the idle loop's
 * screen refresh: the handler, woken early, re-arms for the rest). */
void timer_arm_no_later(uint64_t deadline_ns);

/* Boot self-check: `ticks` timer interrupts at `hz`, with the elapsed time
 * logged for the system tests to compare against QEMU's clock. */
void timer_selfcheck(uint32_t hz, uint32_t ticks);
