/* Ending the machine: the UEFI ResetSystem shutdown on real PCs, and the
 * QEMU debug-exit port only when the QEMU runner asked for it in hv.cfg. */
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
    bool halt_on_failure;    /* keep a failure report on screen instead of powering off */
    bool halt_at_end;        /* halt instead of powering off, whatever the status */
};

void power_init(const struct handoff *h, const struct power_config *cfg);
void power_off(int status) __attribute__((noreturn));
