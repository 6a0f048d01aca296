/* What the hv.cfg tokenizer tests share (tests/unit/test_config*.c, one
 * binary each): a handler that logs every call as "section|arg|key=value",
 * parsing from an exact-size heap copy (so ASan sees any read past len),
 * and the judgements of a parse that succeeds and one that fails. Each test
 * file includes it once. */
#pragma once

#include "hv/config/config.h"

#include <stdbool.h>
#include <stdint.h>

#include "tests/unit/check.h"

/* Not every test file uses every helper. */
#define FIXTURE static __attribute__((unused))

/* Every handler call is logged as "section|arg|key=value\n". */
struct log {
    char text[8192];
    size_t len;
    unsigned calls;
    const char *refuse_key;     /* refuse this key ... */
    const char *refuse_reason;  /* ... with this reason */
};

FIXTURE const char *record(void *arg, const char *section, const char *section_arg,
                          const char *key, const char *value)
{
    struct log *log = arg;
    int n = snprintf(log->text + log->len, sizeof(log->text) - log->len, "%s|%s|%s=%s\n",
                     section, section_arg, key, value);
    CHECK(n > 0 && (size_t)n < sizeof(log->text) - log->len);
    log->len += (size_t)n;
    log->calls++;
    if (log->refuse_key != NULL && strcmp(key, log->refuse_key) == 0)
        return log->refuse_reason;
    return NULL;
}

/* Parses from an exact-size heap copy so ASan sees any read past len. */
FIXTURE int parse_text(const char *text, size_t len, struct log *log, struct cfg_error *err)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    int rc = cfg_parse(copy, len, record, log, err);
    free(copy);
    return rc;
}

FIXTURE void check_parses_to(int line, const char *text, size_t len, const char *want)
{
    struct log log = {0};
    struct cfg_error err;
    int rc = parse_text(text, len, &log, &err);
    if (rc != 0 || strcmp(log.text, want) != 0) {
        printf("  line %d: rc %d (error line %u: %s)\n  got:\n%s  want:\n%s", line, rc,
               err.line, err.reason, log.text, want);
        check_case_failed = 1;
    }
}

FIXTURE void check_fails(int line, const char *text, size_t len, unsigned want_line,
                        const char *want_reason)
{
    struct log log = {0};
    struct cfg_error err;
    memset(&err, 0x55, sizeof(err));
    int rc = parse_text(text, len, &log, &err);
    if (rc != -1 || err.line != want_line || strcmp(err.reason, want_reason) != 0) {
        printf("  line %d: rc %d, error line %u \"%.96s\"; want line %u \"%s\"\n", line, rc,
               err.line, err.reason, want_line, want_reason);
        check_case_failed = 1;
    }
}

/* Longest accepted names (63 characters) and one longer. */
#define NAME63 "abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJKLMNOPQRSTUVWXYZ_012345678"
#define ARG63 "abcdefghijklmnopqrstuvwxyz.ABCDEFGHIJKLMNOPQRSTUVWXYZ-012345678"
#define NAME64 NAME63 "9"
#define ARG64 ARG63 "9"

#define PARSES_TO(text, want) check_parses_to(__LINE__, text, sizeof(text) - 1, want)
#define FAILS(text, line, reason) check_fails(__LINE__, text, sizeof(text) - 1, line, reason)
