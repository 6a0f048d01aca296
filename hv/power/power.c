#include "hv/power/power.h"

#include "hv/console/input.h"
#include "hv/console/log.h"
#include "hv/cpu/x86.h"

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

void power_off(int status)
{
    irq_disable();
    if (config.halt_at_end) {
        log_info("halted with status %d (halt_at_end = yes)", status);
        log_flush();
        console_halt_forever(); /* the keyboard still scrolls the screen */
    }
    log_info("powering off (status %d)", status);
    log_flush();
    if (config.qemu_exit_port) {
        /* isa-debug-exit: QEMU exits with (value << 1) | 1. The offset keeps
         * every hv status clear of QEMU's own exit codes (1 on a start-up
         * error); scripts/hv-qemu turns it back into `status`. */
        outl(config.qemu_exit_port, QEMU_EXIT_STATUS_BASE + (uint32_t)status);
    }
    if (status != HV_EXIT_OK && config.halt_on_failure) {
        log_error("stopped with status %d; the report above says why (press the power button)",
                  status);
        log_flush();
        console_halt_forever(); /* the keyboard still scrolls the screen */
    }
    if (reset_system && boot_tables) {
        /* Runtime services run where the firmware put them: identity-mapped,
         * which only the boot page tables still are. */
        uint64_t own_tables = read_cr3();
        write_cr3(boot_tables);
        ((efi_reset_fn)reset_system)(EFI_RESET_SHUTDOWN, status ? 0x8000000000000001ULL : 0, 0,
                                     0);
        write_cr3(own_tables); /* the consoles are mapped only there */
    }
    log_error("the firmware did not power the machine off; halting");
    halt_forever();
}
