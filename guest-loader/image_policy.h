/* Which guest images may run, by their SHA-256.
 *
 * The firmware checks hv.efi's signature under Secure Boot, but never sees
 * the guest images: hv reads them from the ESP itself. So hv hashes every
 * image before it parses it, logs the hash, and refuses the image when
 *
 *   - hv.cfg pins another hash for it:  [guest hello.elf]  sha256 = <64 hex>
 *     (hv.cfg is on the ESP, unsigned: a pin guards against the wrong file,
 *     not against someone who can rewrite the ESP), or
 *   - hv was built with a policy (make HV_POLICY=FILE) that does not list
 *     the hash. The policy is compiled into hv.efi, so a signed hv.efi
 *     carries it under the signature.
 *
 * Policy file: one hash per line, 64 hex digits, then optionally whitespace
 * and a name (printable ASCII, at most IMAGE_POLICY_NAME_MAX characters; a
 * leading '*' is dropped, so what sha256sum prints is a policy). Blank lines
 * and lines starting with '#' are ignored; leading and trailing whitespace
 * and a CR before LF are too. The name only labels the hash in
 * the log: an image is allowed by its content, whatever its file name.
 *
 * Pure code: no allocation, no hardware; the loader, the build-time
 * generator (tools/policy_gen.c) and the unit tests use it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sha256.h"

#define IMAGE_POLICY_NAME_MAX 63

struct image_policy_entry {
    uint8_t sha256[SHA256_BYTES];
    char name[IMAGE_POLICY_NAME_MAX + 1];   /* "" when the line had none */
};

struct image_policy {
    bool active;                            /* built with HV_POLICY */
    size_t count;
    const struct image_policy_entry *entries;
};

/* The policy built into hv: the generated $(BUILD)/gen/image_policy_table.c. */
extern const struct image_policy image_policy_built_in;

/* Calls add(arg, hash, name) for every hash line of text[0..len), in order.
 * Returns how many it added, or -1 at the first malformed line with
 * *bad_line (1-based) and a reason in why. bad_line/why may be NULL. */
int image_policy_parse(const char *text, size_t len,
                       void (*add)(void *arg, const uint8_t hash[SHA256_BYTES], const char *name),
                       void *arg, unsigned *bad_line, char *why, size_t why_len);

/* What hv.cfg says about one image file (section [guest FILE], the name
 * matched ignoring ASCII case as guest_params.h does): its pin, and whether
 * it is enabled (a disabled image never runs, so it is never refused). */
struct image_cfg {
    bool pinned;
    uint8_t pin[SHA256_BYTES];
    bool enabled;
};

/* Fills *out (the last sha256 and enabled values win; a malformed enabled
 * value counts as enabled, guest_params refuses it). Returns 0, or -1 with
 * a reason in why when a sha256 value is not 64 hex digits. */
int image_cfg_read(const char *file_name, const char *cfg_text, size_t cfg_len,
                   struct image_cfg *out, char *why, size_t why_len);

/* The entry of policy listing digest, or NULL. */
const struct image_policy_entry *image_policy_find(const struct image_policy *policy,
                                                   const uint8_t digest[SHA256_BYTES]);

/* Whether the image file_name with this digest may run: its pin (if any)
 * matches and, with an active policy, the policy lists it (*matched is then
 * its entry, else NULL). false with the reason in why, naming both hashes
 * for a pin ("sha256 <got> differs from <pin>, pinned by hv.cfg [guest
 * FILE]") or the policy's size ("sha256 <got> is not in the image policy
 * built into hv (N hashes)"). */
bool image_policy_allows(const struct image_policy *policy, const struct image_cfg *cfg,
                         const char *file_name, const uint8_t digest[SHA256_BYTES],
                         const struct image_policy_entry **matched, char *why, size_t why_len);
