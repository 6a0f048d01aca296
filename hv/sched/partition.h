/* An ARINC 653-style static schedule: a major frame of time windows, each
 * owned by one guest, repeating for ever. Declared in hv.cfg:
 *     [schedule]
 *     mode = partitioned
 *     major_frame_ms = 100
 *     window = producer 0 40     # guest, offset ms, duration ms
 *     window = consumer 50 40
 *     window = logger 0 90 cpu=1   # on CPU 1 only
 * Within a window only its guest's vCPUs run (round robin among them);
 * time outside every window is idle. A window without `cpu=` holds on
 * every CPU; windows may overlap in time only on different CPUs (each
 * CPU has its own timeline: hv/sched/windows.c looks up its own). Pure: parsing, validation and lookup
 * are unit-tested. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARTITION_MAX_WINDOWS 32
#define PARTITION_NAME_MAX 31

struct partition_window {
    char guest[PARTITION_NAME_MAX + 1];
    uint64_t offset_ns, duration_ns;
    int cpu; /* PARTITION_EVERY_CPU, or the one CPU (hv's index) it holds on */
};

#define PARTITION_EVERY_CPU (-1)
#define PARTITION_MAX_CPU 63

struct partition_plan {
    bool enabled;
    uint64_t major_frame_ns;
    unsigned count;
    struct partition_window w[PARTITION_MAX_WINDOWS]; /* sorted by offset once valid */
};

/* Reads [schedule] from hv.cfg text. 0: fine (enabled or not); -1: refused,
 * with the reason in why (the plan is then disabled). */
int partition_load(const char *cfg, size_t len, struct partition_plan *p, char *why, size_t why_len);

/* The window in force on CPU `cpu` `t` ns after the schedule started
 * (NULL in a gap), and how long until that CPU's next boundary. */
const struct partition_window *partition_at(const struct partition_plan *p, uint64_t t,
                                            unsigned cpu, uint64_t *until_next_ns);
