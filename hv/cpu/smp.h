/* Application processors (APs): every enabled CPU of the MADT is started
 * at boot through a real-mode trampoline below 1 MiB, gets its own GDT,
 * TSS, IST and hv stacks, per-CPU area and IDT, the boot CPU's protections
 * and mitigations, and then waits idle (the scheduler runs on the boot CPU
 * alone until per-CPU run queues exist: issue 13). docs/design.md, "CPUs". */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/acpi/acpi.h"

struct smp_config {
    uint32_t cpus;            /* hv.cfg `cpus = N` (boot CPU included); 0: all */
    bool debug_ap_never_starts;
    bool debug_ap_fault;
    bool debug_ap_late;
    uint32_t debug_ap_refuse; /* N: the Nth AP started fails its checks (0: none) */
    uint32_t debug_ap_stall_ms; /* the last AP stalls this long once it claimed its start */
    uint32_t debug_ap_claim_wait_ms; /* the wait for a claimed AP's check-in (0: 10 s) */
};

/* After the boot CPU's own set-up (protections, mitigations, syscall MSRs,
 * FPU) and before the first guest space exists. Logs one line with the
 * CPUs started and those left out, a line per CPU left out with why. */
void smp_start(const struct acpi_info *acpi, const struct smp_config *config);
/* CPUs in use, the boot CPU included (1 before smp_start). */
uint32_t smp_cpus_running(void);
/* The summary's line: CPUs used, left out and why. */
void smp_report(void);
/* On a panic: an NMI to every other running CPU, which stops there
 * (hv/cpu/trap.c), so one CPU prints one report. */
void smp_stop_others(void);
/* Set by smp_stop_others to the panicking CPU's index + 1: an NMI on any
 * other CPU now means "stop" (smp_must_stop). */
extern volatile uint32_t smp_stopper;

static inline bool smp_must_stop(uint32_t cpu_index)
{
    uint32_t stopper = smp_stopper;
    return stopper && stopper != cpu_index + 1;
}
