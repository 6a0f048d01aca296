/* Ending the machine. The rule (README, "Configuration: hv.cfg"):
 *   1. halt_at_end = yes: halt, whatever else is set (screen tests).
 *   2. qemu_exit_port set (the QEMU runner's copy of the ESP, never a real
 *      PC's): write the status there and QEMU exits with it.
 *   3. power_off_at_end = yes: the firmware's ResetSystem shutdown, unless
 *      the run failed and halt_on_failure (the default) keeps the report.
 *   4. Otherwise halt with the summary on screen and a "safe to power off"
 *      line: a PC without a serial port (most laptops) keeps the run's
 *      report instead of going dark a fraction of a second after it.
 * One closing line is logged, saying which of these happened. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/handoff.h"

/* What `make run` reports as its exit status. */
enum hv_exit_status {
    HV_EXIT_OK = 0,           /* everything ended well */
    HV_EXIT_GUEST_FAILED = 1, /* some guest failed or did not exit with 0 */
    HV_EXIT_BOOT_FAILED = 2,  /* hv could not set the machine up */
    HV_EXIT_PANIC = 3,        /* a hypervisor fault or assertion */
};

struct power_config {
    uint16_t qemu_exit_port; /* 0: not under the QEMU runner */
    bool halt_on_failure;    /* with power_off_at_end: a failure still halts */
    bool halt_at_end;        /* halt whatever the status, even under the QEMU runner */
    bool power_off_at_end;   /* power off instead of halting (a real PC's default is halt) */
};

void power_init(const struct handoff *h, const struct power_config *cfg);
/* Ends the run with `status` by the rule above; never returns. */
void power_off(int status) __attribute__((noreturn));
