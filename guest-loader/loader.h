/* Turning the files of the ESP's images folder into running guests. */
#pragma once

#include "hv/handoff.h"

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
