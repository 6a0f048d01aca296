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
    /* The free-running counter, for a window other work overlaps (a
     * stopwatch); NULL for a clock that can only time a wait (the PIT). */
    uint64_t (*read)(void);
};

/* A window on a reference clock that runs while hv does other work: boot
 * overlaps the calibration with the screen set-up instead of spinning. The
 * work in between must take less than one wrap of the counter (4.6 s for a
 * 24-bit PM timer, 42 s for a 32-bit HPET at 100 MHz): hv's boot steps take
 * milliseconds. */
struct refclock_stopwatch {
    const struct refclock *ref;
    uint64_t last;    /* counter value at the last read */
    uint64_t elapsed; /* counter ticks since the start */
};

/* Starts `sw` on `ref` (which has a readable counter) at `reading`, a
 * value of ref->read the caller took. */
void refclock_stopwatch_start(const struct refclock *ref, struct refclock_stopwatch *sw,
                              uint64_t reading);
/* Reads the counter until at least `ns` of reference time passed since the
 * start; false if it stopped advancing. */
bool refclock_stopwatch_wait(struct refclock_stopwatch *sw, uint64_t ns);
/* Ends the window at `reading` (a later value of ref->read the caller
 * took): the reference ticks since the start, and their rate. */
uint64_t refclock_stopwatch_stop(struct refclock_stopwatch *sw, uint64_t reading, uint64_t *hz);

/* The best reference present; NULL if none works. */
const struct refclock *refclock_pick(const struct acpi_info *acpi);
/* The next candidate after `current` (NULL when none is left). */
const struct refclock *refclock_next(const struct acpi_info *acpi, const struct refclock *current);
