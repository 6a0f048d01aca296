/* The loader's Xen branch: an image with Xen's notes becomes a Xen PV
 * guest (hv/xen/xen.h) instead of one of hv's own ABI. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/handoff.h"

enum loader_xen_outcome {
    LOADER_XEN_STARTED,
    LOADER_XEN_DISABLED, /* hv.cfg says enabled = no: not an error */
    LOADER_XEN_REJECTED, /* the reason logged; the run ends with status 1 */
};

/* Validates, builds and schedules the Xen PV image f (its bytes at
 * `file`; hv.cfg at cfg). */
enum loader_xen_outcome loader_start_xen(const struct handoff_file *f, const uint8_t *file,
                                         const char *cfg, size_t cfg_len);
