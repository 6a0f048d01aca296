#include "guest-loader/image_policy.h"

#include "hv/config/config.h"
#include "lib/fmt.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}


static bool same_digest(const uint8_t a[SHA256_BYTES], const uint8_t b[SHA256_BYTES])
{
    uint8_t diff = 0;
    for (unsigned i = 0; i < SHA256_BYTES; i++)
        diff |= a[i] ^ b[i];
    return diff == 0;
}

/* One line without its LF: 0 if blank or a comment, 1 with hash and name
 * filled, -1 with a reason. */
static int parse_line(const char *p, size_t n, uint8_t hash[SHA256_BYTES],
                      char name[IMAGE_POLICY_NAME_MAX + 1], char *why, size_t why_len)
{
    while (n > 0 && is_space(*p))
        p++, n--;
    while (n > 0 && is_space(p[n - 1]))
        n--;
    if (n == 0 || *p == '#')
        return 0;
    size_t digits = 0;
    while (digits < n && !is_space(p[digits]))
        digits++;
    if (!sha256_from_hex(p, digits, hash)) {
        fmt_format(why, why_len, "expected a SHA-256 of 64 hex digits, found %lu characters%s",
                   (unsigned long)digits, digits == SHA256_HEX_CHARS ? " that are not all hex" : "");
        return -1;
    }
    p += digits, n -= digits;
    while (n > 0 && is_space(*p))
        p++, n--;
    if (n > 0 && *p == '*')         /* sha256sum's binary-mode mark */
        p++, n--;
    if (n > IMAGE_POLICY_NAME_MAX) {
        fmt_format(why, why_len, "the name is longer than %d characters", IMAGE_POLICY_NAME_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] > 0x7e) {
            fmt_format(why, why_len, "the name has a byte that is not printable ASCII (0x%02x)",
                       (unsigned)(uint8_t)p[i]);
            return -1;
        }
        name[i] = p[i];
    }
    name[n] = '\0';
    return 1;
}

int image_policy_parse(const char *text, size_t len,
                       void (*add)(void *arg, const uint8_t hash[SHA256_BYTES], const char *name),
                       void *arg, unsigned *bad_line, char *why, size_t why_len)
{
    char scratch[1];
    if (why == NULL || why_len == 0)
        why = scratch, why_len = sizeof(scratch);
    why[0] = '\0';
    int added = 0;
    unsigned line = 0;
    size_t pos = 0;
    while (pos < len) {
        line++;
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        uint8_t hash[SHA256_BYTES];
        char name[IMAGE_POLICY_NAME_MAX + 1];
        int r = parse_line(text + pos, end - pos, hash, name, why, why_len);
        if (r < 0) {
            if (bad_line != NULL)
                *bad_line = line;
            return -1;
        }
        if (r > 0) {
            if (add != NULL)
                add(arg, hash, name);
            if (added < 0x7fffffff)
                added++;
        }
        pos = end + 1;
    }
    return added;
}

struct cfg_scan {
    const char *file_name;
    struct image_cfg *out;
    char *why;
    size_t why_len;
    bool failed;
};

static const char *scan_guest_section(void *arg, const char *section, const char *section_arg,
                                      const char *key, const char *value)
{
    struct cfg_scan *s = arg;
    if (!cfg_equal(section, "guest") || !cfg_equal_nocase(section_arg, s->file_name))
        return NULL;
    if (cfg_equal(key, "enabled")) {
        bool on;
        if (cfg_parse_bool(value, &on))
            s->out->enabled = on;
        return NULL;
    }
    if (!cfg_equal(key, "sha256"))
        return NULL;
    size_t n = 0;
    while (value[n] != '\0')
        n++;
    if (!sha256_from_hex(value, n, s->out->pin)) {
        fmt_format(s->why, s->why_len, "hv.cfg [guest %s] sha256: must be 64 hex digits (%lu characters given)",
                   s->file_name, (unsigned long)n);
        s->failed = true;
        return "not a SHA-256";
    }
    s->out->pinned = true;
    return NULL;
}

int image_cfg_read(const char *file_name, const char *cfg_text, size_t cfg_len,
                   struct image_cfg *out, char *why, size_t why_len)
{
    char scratch[1];
    if (why == NULL || why_len == 0)
        why = scratch, why_len = sizeof(scratch);
    why[0] = '\0';
    out->pinned = false;
    out->enabled = true;
    struct cfg_scan s = {.file_name = file_name, .out = out, .why = why, .why_len = why_len};
    /* A syntax error stops the parse; settings.c reports it, and what came
     * before it counts, as for every other key. */
    cfg_parse(cfg_text, cfg_len, scan_guest_section, &s, NULL);
    return s.failed ? -1 : 0;
}

const struct image_policy_entry *image_policy_find(const struct image_policy *policy,
                                                   const uint8_t digest[SHA256_BYTES])
{
    for (size_t i = 0; i < policy->count; i++)
        if (same_digest(policy->entries[i].sha256, digest))
            return &policy->entries[i];
    return NULL;
}

bool image_policy_allows(const struct image_policy *policy, const struct image_cfg *cfg,
                         const char *file_name, const uint8_t digest[SHA256_BYTES],
                         const struct image_policy_entry **matched, char *why, size_t why_len)
{
    char scratch[1];
    if (why == NULL || why_len == 0)
        why = scratch, why_len = sizeof(scratch);
    why[0] = '\0';
    *matched = NULL;
    char got[SHA256_HEX_CHARS + 1];
    sha256_to_hex(digest, got);
    if (cfg->pinned && !same_digest(cfg->pin, digest)) {
        char pin[SHA256_HEX_CHARS + 1];
        sha256_to_hex(cfg->pin, pin);
        fmt_format(why, why_len, "sha256 %s differs from %s, pinned by hv.cfg [guest %s]", got, pin,
                   file_name);
        return false;
    }
    if (!policy->active)
        return true;
    *matched = image_policy_find(policy, digest);
    if (*matched == NULL) {
        fmt_format(why, why_len, "sha256 %s is not in the image policy built into hv (%lu hash%s)",
                   got, (unsigned long)policy->count, policy->count == 1 ? "" : "es");
        return false;
    }
    return true;
}
