/* The image's restart-policy note (guest-loader/policy_note.h). */
#include "guest-loader/policy_note.h"

#include "hv/console/log.h"

bool loader_apply_policy_note(const char *name, const struct elf_image *img,
                              struct guest_params *p)
{
    char why[160];
    if (!img->have_policy_note)
        return true;
    if (guest_policy_apply_note(&p->policy, p->policy_cfg_keys, &img->policy_note, why,
                                sizeof(why)))
        return true;
    log_error("image %s rejected: %s", name, why);
    return false;
}
