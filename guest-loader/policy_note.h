/* The image's restart-policy note ("hv" note, struct hv_image_policy):
 * applied under what hv.cfg set, which wins key by key. */
#pragma once

#include <stdbool.h>

#include "guest-loader/elf_image.h"
#include "guest-loader/guest_params.h"

/* Applies img's policy note to p (if it has one); false, the reason
 * logged against file `name`, when the note's values are refused. */
bool loader_apply_policy_note(const char *name, const struct elf_image *img,
                              struct guest_params *p);
