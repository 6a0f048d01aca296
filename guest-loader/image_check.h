#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/handoff.h"

/* Hashes image f (its bytes at `file`) before anything parses it, logs the
 * hash, and applies hv.cfg's pin and the built-in policy; false, the reason
 * logged, when the image must not run. */
bool image_check_allowed(const struct handoff_file *f, const uint8_t *file, const char *cfg,
                         size_t cfg_len);
