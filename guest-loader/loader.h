/* Turning the files of the ESP's images folder into running guests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

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
/* A restart's build (hv/guest/restart.c): the guest's memory is all back
 * in its reservation; builds it afresh from its kept image and parameters
 * as at load (its vCPUs made, not yet scheduled). False with the reason. */
bool loader_rebuild(struct guest *g, char *why, size_t why_len);
