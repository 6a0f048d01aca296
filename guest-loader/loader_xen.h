/* The loader's Xen branch: an image with Xen's notes becomes a Xen PV
 * guest (hv/xen/xen.h) instead of one of hv's own ABI. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/handoff.h"

/* Validates, builds and schedules the Xen PV image f (its bytes at
 * `file`; hv.cfg at cfg); logs why not and returns false otherwise. */
bool loader_start_xen(const struct handoff_file *f, const uint8_t *file, const char *cfg,
                      size_t cfg_len);
