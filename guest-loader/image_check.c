/* The check every image passes before anything parses it: its SHA-256
 * against hv.cfg's pin and the policy built into hv, and the hash logged
 * (split from loader.c, which builds guests). */
#include "guest-loader/image_check.h"

#include "guest-loader/image_policy.h"
#include "guest-loader/loader.h"
#include "hv/console/log.h"
#include "lib/sha256.h"

/* Whether every image's hash is logged, not only those a check needs
 * (loader_log_image_hashes). */
static bool log_all_hashes;

void loader_log_image_hashes(bool all)
{
    log_all_hashes = all;
}

/* Hashes the image before anything parses it, logs the hash, and applies
 * hv.cfg's pin and the policy built into hv (image_policy.h); false (the
 * reason logged) when the image must not run. A disabled image is only
 * logged: it never runs, so it is never refused. An image no pin or
 * policy checks is hashed only when every hash is to be logged: hashing
 * costs ~30 instructions a byte (8 M for a 256 KiB image), which would
 * otherwise be most of a boot. */
bool image_check_allowed(const struct handoff_file *f, const uint8_t *file, const char *cfg,
                         size_t cfg_len)
{
    uint8_t digest[SHA256_BYTES];
    char hex[SHA256_HEX_CHARS + 1], why[224];
    struct image_cfg ic;
    bool cfg_ok = image_cfg_read(f->name, cfg, cfg_len, &ic, why, sizeof(why)) == 0;
    if (cfg_ok && !ic.pinned && !image_policy_built_in.active && !log_all_hashes)
        return true; /* nothing to check, and nobody asked for the hash */
    sha256(file, f->size, digest);
    sha256_to_hex(digest, hex);
    const struct image_policy_entry *listed = NULL;
    bool allowed = cfg_ok &&
                   (!ic.enabled || image_policy_allows(&image_policy_built_in, &ic, f->name,
                                                       digest, &listed, why, sizeof(why)));
    bool pin_checked = allowed && ic.enabled && ic.pinned;
    if (listed != NULL && listed->name[0] != '\0')
        log_info("image %s: sha256 %s%s, in the policy as '%s'", f->name, hex,
                 pin_checked ? ", as pinned in hv.cfg" : "", listed->name);
    else
        log_info("image %s: sha256 %s%s%s", f->name, hex,
                 pin_checked ? ", as pinned in hv.cfg" : "", listed ? ", in the policy" : "");
    if (!allowed)
        log_error("image %s rejected: %s", f->name, why);
    return allowed;
}

