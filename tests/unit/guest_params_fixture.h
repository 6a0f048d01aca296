/* What the guest_params tests share (tests/unit/test_guest_params*.c, one
 * binary each): the resolver run on exact-size heap copies of the note and
 * hv.cfg (so ASan catches a read past either), an image note to order, and
 * the judgements of an accepted and a refused result. Each test file
 * includes it once. */
#pragma once

#include "guest-loader/guest_params.h"

#include <stdbool.h>
#include <stdint.h>

#include "tests/unit/check.h"

/* Not every test file uses every helper. */
#define FIXTURE static __attribute__((unused))

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static char why[256];

/* Runs the resolver on exact-size heap copies of the note and hv.cfg, so
 * ASan catches any read past either. */
FIXTURE int resolve_n(const char *file, uint64_t span, const struct hv_image_note *note,
                     const char *cfg, size_t cfg_len, struct guest_params *out)
{
    struct hv_image_note *note_copy = NULL;
    if (note != NULL) {
        note_copy = malloc(sizeof(*note_copy));
        memcpy(note_copy, note, sizeof(*note_copy));
    }
    char *cfg_copy = NULL;
    if (cfg != NULL) {
        cfg_copy = malloc(cfg_len ? cfg_len : 1);
        memcpy(cfg_copy, cfg, cfg_len);
    }
    memset(why, 0x55, sizeof(why));
    int rc = guest_params_resolve(file, span, note_copy, cfg_copy, cfg_len, out, why,
                                  sizeof(why));
    CHECK(memchr(why, '\0', sizeof(why)) != NULL);
    free(note_copy);
    free(cfg_copy);
    return rc;
}

FIXTURE int resolve(const char *file, uint64_t span, const struct hv_image_note *note,
                   const char *cfg, struct guest_params *out)
{
    return resolve_n(file, span, note, cfg, cfg ? strlen(cfg) : 0, out);
}

FIXTURE struct hv_image_note make_note(uint32_t vcpus, uint64_t memory, uint64_t stack,
                                      const char *name)
{
    struct hv_image_note n;
    memset(&n, 0, sizeof(n));
    n.abi_version = HV_ABI_VERSION;
    n.vcpus = vcpus;
    n.memory_bytes = memory;
    n.stack_bytes = stack;
    if (name != NULL)
        memcpy(n.name, name, strnlen(name, sizeof(n.name)));
    return n;
}

/* Expects success; returns the result. */
#define EXPECT_OK(file, span, note, cfg, out)                                   \
    do {                                                                        \
        memset(&(out), 0, sizeof(out));                                         \
        int rc_ = resolve(file, span, note, cfg, &(out));                       \
        if (rc_ != 0)                                                           \
            printf("  %s:%d: unexpected refusal: %s\n", __FILE__, __LINE__, why); \
        CHECK(rc_ == 0);                                                        \
        CHECK_STR_EQ(why, "");                                                  \
    } while (0)

/* Expects a refusal whose message contains each of the given pieces, and
 * that *out was left alone. */
FIXTURE void expect_refused(int line, const char *file, uint64_t span,
                           const struct hv_image_note *note, const char *cfg,
                           const char *piece1, const char *piece2)
{
    struct guest_params out, before;
    memset(&out, 0xa5, sizeof(out));
    before = out;
    int rc = resolve(file, span, note, cfg, &out);
    if (rc >= 0 || strstr(why, piece1) == NULL || (piece2 && strstr(why, piece2) == NULL)) {
        printf("  line %d: rc %d, why \"%s\", wanted \"%s\" and \"%s\"\n", line, rc, why,
               piece1, piece2 ? piece2 : "");
        check_case_failed = 1;
    }
    CHECK(memcmp(&out, &before, sizeof(out)) == 0);
}

#define EXPECT_REFUSED(file, span, note, cfg, piece1, piece2) \
    expect_refused(__LINE__, file, span, note, cfg, piece1, piece2)

/* Expects exactly this message. */
FIXTURE void expect_message(int line, const char *file, uint64_t span,
                           const struct hv_image_note *note, const char *cfg, const char *want)
{
    struct guest_params out;
    int rc = resolve(file, span, note, cfg, &out);
    if (rc >= 0 || strcmp(why, want) != 0) {
        printf("  line %d: rc %d\n    got  \"%s\"\n    want \"%s\"\n", line, rc, why, want);
        check_case_failed = 1;
    }
}

#define EXPECT_MESSAGE(file, span, note, cfg, want) \
    expect_message(__LINE__, file, span, note, cfg, want)
