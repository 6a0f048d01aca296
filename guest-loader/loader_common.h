/* What both personalities' loaders share (guest-loader/loader.c for hv's
 * own images, guest-loader/loader_xen.c for Xen PV images): the checks a
 * guest passes before hv creates it. Each logs "image F rejected: ..." and
 * returns false when the image must not start. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest-loader/guest_params.h"
#include "hv/handoff.h"

/* Memory hv keeps back for its own structures when granting guests. */
#define HV_RESERVE_BYTES (2ULL << 20)

/* The guest's name is not already another's, and its whole allowance is
 * free and not reserved for other guests (keeping HV_RESERVE_BYTES). */
bool loader_name_and_memory_ok(const struct handoff_file *f, const struct guest_params *p);

/* hv.cfg's `cpus` for the guest (0: no affinity) names only CPUs whose
 * schedulers run guests. */
bool loader_affinity_ok(const char *file, uint64_t cpus);

struct guest;
/* guest_create with the reason logged when it fails. */
struct guest *loader_create_guest(const struct handoff_file *f, const struct guest_params *p);

struct elf_image;
/* Builds the guest from its parsed image (guest-loader/loader_build.c):
 * its segments, relocations, permissions, stacks, start-info, shared and
 * heap pages, [shm] regions and vCPUs (not scheduled); false with the
 * reason. */
bool loader_build(struct guest *g, const struct guest_params *p, const struct elf_image *img,
                  const uint8_t *file, size_t size, char *why, size_t why_len);
