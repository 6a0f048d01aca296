/* The firmware's calendar time as seconds since the Unix epoch (UTC). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/handoff.h"

/* False for a date the firmware should never report (month 13, 1899...). */
bool wallclock_to_epoch(const struct handoff_time *t, uint64_t *sec, uint32_t *nsec);
