/* Measuring the frequencies of the TSC and the local APIC timer. */
#pragma once

#include <stdint.h>

#include "hv/acpi/acpi.h"

struct calibration {
    uint64_t tsc_hz;
    uint64_t lapic_hz; /* local APIC timer input, divide-by-1 */
    const char *tsc_source;
    const char *lapic_source;
};

/* Opens the measuring window: the TSC, the APIC timer and a reference
 * clock start counting, and boot does other work until calibrate_end, which
 * waits only for what is left of the window (5 ms). Needs the local APIC
 * enabled (lapic_init). debug_gap: TSC cycles of a pause cut into the
 * first try of each reading (hv.cfg debug_calibration_gap; 0 normally). */
void calibrate_begin(const struct acpi_info *acpi, uint64_t debug_gap);
/* Closes the window. Returns false if no reference clock could be used. */
bool calibrate_end(const struct acpi_info *acpi, struct calibration *out);
