/* How a run ends: the rule of hv/power/power.h as a pure function, so it
 * is tested on the host (tests/unit/test_end_rule.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

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
    bool reboot_at_end;      /* reset (reboot) instead: hv.cfg on_all_ended = restart */
};

enum power_end {
    POWER_END_HALT_ASKED,   /* halt_at_end = yes */
    POWER_END_QEMU_EXIT,    /* the QEMU runner's port: QEMU exits with the status */
    POWER_END_POWER_OFF,    /* power_off_at_end = yes: the firmware powers off */
    POWER_END_HALT_FAILURE, /* power off or reboot asked, but halt_on_failure keeps the report */
    POWER_END_REBOOT,       /* on_all_ended = restart: the firmware resets the machine */
    POWER_END_HALT,         /* the default: halt, safe to power off */
};

enum power_end power_end_rule(const struct power_config *c, int status);
/* A few words for a status: "everything ended well", "a guest failed", ... */
const char *power_status_meaning(int status);
