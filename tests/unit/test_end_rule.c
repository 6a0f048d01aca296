/* hv/power/end_rule.c: how a run ends, for every combination of settings. */
#include "hv/power/end_rule.h"

#include "tests/unit/check.h"

static struct power_config cfg(uint16_t port, bool halt_on_failure, bool halt_at_end,
                               bool power_off_at_end)
{
    return (struct power_config){port, halt_on_failure, halt_at_end, power_off_at_end, false};
}

/* A real PC's ESP (no qemu_exit_port) with the defaults halts whatever the
 * status: the summary stays on screen. */
static void real_pc_defaults_halt(void)
{
    struct power_config c = cfg(0, true, false, false);
    for (int status = 0; status <= 3; status++)
        CHECK_EQ_U64(power_end_rule(&c, status), POWER_END_HALT);
}

/* The QEMU runner's copy ends QEMU with the status, failure or not, and
 * whatever the real-PC settings say. */
static void qemu_runner_exits(void)
{
    for (int off = 0; off <= 1; off++)
        for (int hof = 0; hof <= 1; hof++)
            for (int status = 0; status <= 3; status++) {
                struct power_config c = cfg(0xf4, hof, false, off);
                CHECK_EQ_U64(power_end_rule(&c, status), POWER_END_QEMU_EXIT);
            }
}

/* halt_at_end wins over everything, the QEMU runner's port included. */
static void halt_at_end_wins(void)
{
    struct power_config c = cfg(0xf4, false, true, true);
    CHECK_EQ_U64(power_end_rule(&c, 0), POWER_END_HALT_ASKED);
    CHECK_EQ_U64(power_end_rule(&c, 1), POWER_END_HALT_ASKED);
}

/* power_off_at_end powers off a good run; a failed one only when
 * halt_on_failure = no. */
static void power_off_when_asked(void)
{
    struct power_config c = cfg(0, true, false, true);
    CHECK_EQ_U64(power_end_rule(&c, 0), POWER_END_POWER_OFF);
    CHECK_EQ_U64(power_end_rule(&c, 1), POWER_END_HALT_FAILURE);
    CHECK_EQ_U64(power_end_rule(&c, 3), POWER_END_HALT_FAILURE);
    c.halt_on_failure = false;
    CHECK_EQ_U64(power_end_rule(&c, 1), POWER_END_POWER_OFF);
}

/* on_all_ended = restart reboots a good run (a failed one only when
 * halt_on_failure = no); the QEMU runner's port and halt_at_end still win. */
static void reboot_when_asked(void)
{
    struct power_config c = cfg(0, true, false, false);
    c.reboot_at_end = true;
    CHECK_EQ_U64(power_end_rule(&c, 0), POWER_END_REBOOT);
    CHECK_EQ_U64(power_end_rule(&c, 1), POWER_END_HALT_FAILURE);
    c.halt_on_failure = false;
    CHECK_EQ_U64(power_end_rule(&c, 1), POWER_END_REBOOT);
    c.qemu_exit_port = 0xf4;
    CHECK_EQ_U64(power_end_rule(&c, 0), POWER_END_QEMU_EXIT);
    c.halt_at_end = true;
    CHECK_EQ_U64(power_end_rule(&c, 0), POWER_END_HALT_ASKED);
}

static void status_meanings(void)
{
    CHECK_STR_EQ(power_status_meaning(0), "everything ended well");
    CHECK_STR_EQ(power_status_meaning(1), "a guest failed");
    CHECK_STR_EQ(power_status_meaning(2), "hv could not set the machine up");
    CHECK_STR_EQ(power_status_meaning(3), "hypervisor panic");
    CHECK_STR_EQ(power_status_meaning(99), "unknown status");
    CHECK_STR_EQ(power_status_meaning(-1), "unknown status");
}

int main(void)
{
    check_suite = "end_rule";
    RUN_TEST(real_pc_defaults_halt);
    RUN_TEST(qemu_runner_exits);
    RUN_TEST(halt_at_end_wins);
    RUN_TEST(power_off_when_asked);
    RUN_TEST(reboot_when_asked);
    RUN_TEST(status_meanings);
    return check_finish();
}
