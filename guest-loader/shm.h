/* Memory shared between guests, declared in hv.cfg:
 *     [shm NAME]
 *     size = 64K
 *     map = producer:rw consumer:ro
 * Each region is zeroed memory of hv's (not charged to any guest), mapped
 * into every guest named, read-write or read-only, never executable, and
 * described in that guest's start info. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "include/hv/abi.h"

struct guest;

/* Reads every [shm] section; bad ones are reported and left out. */
void shm_configure(const char *cfg, size_t len);
/* With si: fills si->shm[] with the regions that name this guest (their
 * slots), maps nothing. Without: maps at most `budget` pages of them from
 * page *pos on, counted over them in slot order, advancing *pos, and sets
 * *done once every page is mapped: a restart maps a few pages a step
 * (guest-loader/loader_build.c; a region is up to 64 MiB). False (with the
 * reason) if more than HV_MAX_SHM name it or a page cannot be mapped. */
bool shm_attach(struct guest *g, struct hv_start_info *si, uint64_t *pos, uint64_t budget,
                bool *done, char *why, size_t why_len);
/* At the end of the run, every guest gone: gives up to max_pages of the
 * regions' memory back; true once all of it is back. Called in a loop with
 * an interrupt window between calls, so a region of any size is freed in
 * bounded stretches (docs/benchmarks.md, hv_irq_off_max). */
bool shm_free_some(uint64_t max_pages);
/* Frames the regions hold now (hv's frame account, hv/guest/leak_check.c). */
uint64_t shm_pages_held(void);
