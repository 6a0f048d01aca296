/* Ending the machine. The rule (README, "Configuration: hv.cfg";
 * power_end_rule in end_rule.c):
 *   1. halt_at_end = yes: halt, whatever else is set (screen tests).
 *   2. qemu_exit_port set (the QEMU runner's copy of the ESP, never a real
 *      PC's): write the status there and QEMU exits with it.
 *   3. on_all_ended = poweroff (or power_off_at_end = yes): the firmware's
 *      ResetSystem shutdown; on_all_ended = restart: its cold reset (the
 *      machine boots again, hv and every guest afresh). Either unless the
 *      run failed and halt_on_failure (the default) keeps the report.
 *   4. Otherwise (on_all_ended = halt, the default) halt with the summary on screen and a "safe to power off"
 *      line: a PC without a serial port (most laptops) keeps the run's
 *      report instead of going dark a fraction of a second after it.
 * One closing line is logged, saying which of these happened. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/handoff.h"
#include "hv/power/end_rule.h"

void power_init(const struct handoff *h, const struct power_config *cfg);
/* Ends the run with `status` by the rule above; never returns. */
void power_off(int status) __attribute__((noreturn));
