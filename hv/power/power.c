#include "hv/power/power.h"

#include "hv/console/input.h"
#include "hv/console/log.h"
#include "hv/cpu/x86.h"

#define EFI_RESET_COLD 0
#define EFI_RESET_SHUTDOWN 2
#define QEMU_EXIT_STATUS_BASE 16

typedef void (__attribute__((ms_abi)) *efi_reset_fn)(int type, uint64_t status, uint64_t size,
                                                     void *data);

static uint64_t reset_system;
static uint64_t boot_tables;
static struct power_config config = {.halt_on_failure = true};

void power_init(const struct handoff *h, const struct power_config *cfg)
{
    reset_system = h->efi_reset_system;
    boot_tables = h->boot_pml4_phys;
    config = *cfg;
}

/* `why` names the setting that chose halting, if one did: " (key = value)". */
static void __attribute__((noreturn)) halt_with(int status, const char *why)
{
    if (status == HV_EXIT_OK)
        log_info("halted with status 0%s: %s; safe to power off now", why,
                 power_status_meaning(status));
    else
        log_error("halted with status %d%s: %s, the report above says why; safe to power off now",
                  status, why, power_status_meaning(status));
    log_flush();
    console_halt_forever(); /* the keyboard still scrolls the screen */
}

/* ResetSystem of type EFI_RESET_SHUTDOWN (power off) or EFI_RESET_COLD
 * (reboot). */
static void __attribute__((noreturn)) firmware_reset(int type, int status)
{
    if (reset_system && boot_tables) {
        log_info("%s (status %d)", type == EFI_RESET_COLD ? "restarting the machine (on_all_ended = restart)"
                                                          : "powering off", status);
        log_flush();
        /* Runtime services run where the firmware put them: identity-mapped,
         * which only the boot page tables still are. */
        uint64_t own_tables = read_cr3();
        write_cr3(boot_tables);
        ((efi_reset_fn)reset_system)(type, status ? 0x8000000000000001ULL : 0, 0, 0);
        write_cr3(own_tables); /* the consoles are mapped only there */
        log_error("the firmware did not %s the machine",
                  type == EFI_RESET_COLD ? "reset" : "power off");
    }
    halt_with(status, "");
}

static void __attribute__((noreturn)) qemu_exit(int status)
{
    log_info("powering off (status %d)", status);
    log_flush();
    /* isa-debug-exit: QEMU exits with (value << 1) | 1. The offset keeps
     * every hv status clear of QEMU's own exit codes (1 on a start-up
     * error); scripts/hv-qemu turns it back into `status`. */
    outl(config.qemu_exit_port, QEMU_EXIT_STATUS_BASE + (uint32_t)status);
    log_error("qemu_exit_port 0x%x did not end the machine", config.qemu_exit_port);
    halt_with(status, "");
}

void power_off(int status)
{
    irq_disable();
    switch (power_end_rule(&config, status)) {
    case POWER_END_HALT_ASKED:
        halt_with(status, " (halt_at_end = yes)");
    case POWER_END_QEMU_EXIT:
        qemu_exit(status);
    case POWER_END_POWER_OFF:
        firmware_reset(EFI_RESET_SHUTDOWN, status);
    case POWER_END_REBOOT:
        firmware_reset(EFI_RESET_COLD, status);
    case POWER_END_HALT_FAILURE:
        halt_with(status, " (halt_on_failure = yes)");
    case POWER_END_HALT:
        break;
    }
    halt_with(status, "");
}
