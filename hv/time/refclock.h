/* Fixed-frequency reference clocks to calibrate the TSC and the local APIC
 * timer against, best first: HPET, ACPI PM timer, PIT channel 2. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/acpi/acpi.h"

struct refclock {
    const char *name;
    /* Busy-waits for `ns` of reference time; false if the clock misbehaved
     * (did not advance), so the caller can try the next one. */
    bool (*wait_ns)(uint64_t ns);
};

/* The best reference present; NULL if none works. */
const struct refclock *refclock_pick(const struct acpi_info *acpi);
/* The next candidate after `current` (NULL when none is left). */
const struct refclock *refclock_next(const struct acpi_info *acpi, const struct refclock *current);
