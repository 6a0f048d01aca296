/* The health monitor's log: each guest keeps its last HV_HEALTH_LOG_ENTRIES
 * ends (time, exit or fault, hv's reason, the action its policy chose),
 * printed under the guest in the summary and readable by a guest with
 * hv.cfg `monitor = yes` through HV_CALL_HEALTH_READ (include/hv/abi.h).
 * Fixed size, inside struct guest: logging never allocates. */
#pragma once

#include <stdint.h>

#include "include/hv/abi.h"

struct health_log {
    uint32_t count; /* entries ever added; the last HV_HEALTH_LOG_ENTRIES are kept */
    struct hv_health_entry entry[HV_HEALTH_LOG_ENTRIES];
};

struct guest;

void health_log_add(struct guest *g, uint64_t now_ns, uint32_t event, int64_t status,
                    const char *reason, uint32_t action);
/* The entry with this index, or NULL if it is gone or not yet there. */
const struct hv_health_entry *health_log_entry(const struct health_log *l, uint32_t index);
/* Its lines under the guest's summary line. */
void health_log_print(const struct guest *g);
const char *health_action_words(uint32_t action);
