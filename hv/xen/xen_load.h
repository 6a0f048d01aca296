/* The guest loader's door to the Xen personality (guest-loader/loader.c,
 * start_one): an image with Xen's notes is a Xen PV guest and goes here
 * instead of through the native loader. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Default guest memory for Xen images without a `memory` in hv.cfg
 * (docs/plans/xen-personality.md, the lead's decision 3). */
#define XEN_DEFAULT_MEMORY (32ULL << 20)

/* Validates and (once the domain builder exists) starts the Xen PV image
 * `name`; logs why not and returns false otherwise. Until the builder is
 * written, every Xen image is refused, with its notes and the layout it
 * would get logged, so a user sees it was recognised. */
bool xen_start_one(const char *name, const uint8_t *file, size_t size);
