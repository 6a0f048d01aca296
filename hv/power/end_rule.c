#include "hv/power/end_rule.h"

enum power_end power_end_rule(const struct power_config *c, int status)
{
    if (c->halt_at_end)
        return POWER_END_HALT_ASKED;
    if (c->qemu_exit_port)
        return POWER_END_QEMU_EXIT;
    if (!c->power_off_at_end && !c->reboot_at_end)
        return POWER_END_HALT;
    if (status != HV_EXIT_OK && c->halt_on_failure)
        return POWER_END_HALT_FAILURE;
    return c->reboot_at_end ? POWER_END_REBOOT : POWER_END_POWER_OFF;
}

const char *power_status_meaning(int status)
{
    switch (status) {
    case HV_EXIT_OK:
        return "everything ended well";
    case HV_EXIT_GUEST_FAILED:
        return "a guest failed";
    case HV_EXIT_BOOT_FAILED:
        return "hv could not set the machine up";
    case HV_EXIT_PANIC:
        return "hypervisor panic";
    default:
        return "unknown status";
    }
}
