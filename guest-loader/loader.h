/* Turning the files of the ESP's images folder into running guests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/handoff.h"

struct guest;

/* Validates and loads every image, in name order; a rejected one gets one
 * line naming the file and the reason, and the others still start. Returns
 * how many guests were created. */
unsigned loader_start_guests(const struct handoff *h);
/* How many images were rejected or could not be read: any makes the run's
 * status a failure, so a bad image in an unattended run is not missed. */
unsigned loader_rejected_images(void);
/* Log the SHA-256 of every image (true), or only of those a pin in hv.cfg
 * or the built-in policy checks (false, the default). hv.cfg
 * `log_image_hashes`: auto means on exactly when Secure Boot is. */
void loader_log_image_hashes(bool all);
/* The bytes of a kept image a restart reads (hv/guest/restart.c), and so
 * all it must hash again: range i < segment_count is segment i's file
 * bytes, range segment_count the relocation table (empty for ET_EXEC);
 * false past the last. The headers are not among them: the restart uses
 * the load's parse (kept->img), so section headers, debug sections and the
 * headers themselves cannot change what a restart runs. */
struct elf_image;
bool loader_kept_range(const struct elf_image *img, uint64_t i, uint64_t *offset,
                       uint64_t *bytes);
/* A restart's build (hv/guest/restart.c), in bounded steps, once the
 * guest's memory is all back in its reservation (guest-loader/
 * loader_build.c). Each returns false with the reason. begin: makes the
 * root page table (the image as parsed at load, its bytes hashed again by
 * then); rebuild_step: a bounded piece of the build as at load, from the
 * kept parameters (a segment page loaded, 16 relocations, 6 pages'
 * permissions, the fixed pages, the heap and [shm] regions, or one vCPU;
 * the stacks and heap only noted for the restart's later steps; the vCPUs
 * made, not yet scheduled; *done once all is). */
bool loader_rebuild_begin(struct guest *g, char *why, size_t why_len);
bool loader_rebuild_step(struct guest *g, bool *done, char *why, size_t why_len);
