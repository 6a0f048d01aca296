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

/* Needs the local APIC enabled (lapic_init). Returns false if no reference
 * clock could be used. */
bool calibrate(const struct acpi_info *acpi, struct calibration *out);
