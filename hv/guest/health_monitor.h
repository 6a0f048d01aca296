/* The health monitor's log: each guest keeps its last HV_HEALTH_LOG_ENTRIES
 * ends (time, exit or fault, hv's reason, the action its policy chose),
 * printed under the guest in the summary and readable by a guest with
 * hv.cfg `monitor = yes` through HV_CALL_HEALTH_READ (include/hv/abi.h).
 * Fixed size, inside struct guest: logging never allocates. */
#pragma once

#include <stdint.h>

#include "include/hv/abi.h"

/* One writer at a time (the guest's restart_lock); readers on other CPUs
 * (a monitor guest's HV_CALL_HEALTH_READ) take no lock: `seq` is odd while
 * an entry is written, and a reader copies an entry and checks `seq` did
 * not move (a seqlock), so no guest can hold a lock against another. */
struct health_log {
    uint32_t count; /* entries ever added; the last HV_HEALTH_LOG_ENTRIES are kept */
    uint32_t seq;
    struct hv_health_entry entry[HV_HEALTH_LOG_ENTRIES];
};

struct guest;

void health_log_add(struct guest *g, uint64_t now_ns, uint32_t event, int64_t status,
                    const char *reason, uint32_t action);
/* The guest's log as published (NULL: no entries yet); acquire. */
const struct health_log *health_log_of(const struct guest *g);
/* Entries ever added, as a reader on any CPU sees it now. */
uint32_t health_log_count(const struct health_log *l);
/* Lock-free copy of entry `index` into *out: 1 copied, 0 gone or not yet
 * there, -1 written to all along (a few tries; the caller says -HV_EAGAIN). */
int health_log_copy(const struct health_log *l, uint32_t index, struct hv_health_entry *out);
/* The entry with this index, or NULL if it is gone or not yet there
 * (for the writer's side and the summary, when nothing writes). */
const struct hv_health_entry *health_log_entry(const struct health_log *l, uint32_t index);
/* Its lines under the guest's summary line. */
void health_log_print(const struct guest *g);
const char *health_action_words(uint32_t action);
