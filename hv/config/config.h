/* Parser for hv.cfg, the small INI-style file on the ESP:
 *
 *     # comment            (';' also starts a whole-line comment)
 *     [hv]
 *     log_level = debug    # trailing comment: whitespace, then '#'
 *     [guest hello]        # section with one argument
 *     cmdline = "a # b"    # double quotes keep '#' and spaces
 *
 * Syntax:
 *   - Section and key names: [A-Za-z0-9_]+, at most CFG_MAX_NAME characters.
 *   - Section argument: [A-Za-z0-9._-]+, at most CFG_MAX_NAME characters;
 *     at most one. Whitespace is allowed inside the brackets; after ']' only
 *     whitespace and a '#' or ';' comment may follow.
 *   - Values run to the end of the line; surrounding whitespace and a
 *     trailing comment ('#' preceded by whitespace) are removed. A value
 *     starting with '"' ends at the next '"' (there are no escapes, so it
 *     cannot contain '"'); only whitespace or a '#' comment may follow it.
 *     Empty values ("key =" or key = "") are passed on as "".
 *   - Lines end in LF or CRLF; a UTF-8 BOM at the very start is skipped.
 *     Lines longer than CFG_MAX_LINE characters, NUL bytes and other control
 *     characters (anything below 0x20 but tab, and 0x7f) are errors. Bytes
 *     >= 0x80 are allowed in values and comments.
 *
 * No dynamic memory: tokens are copied into bounded buffers on the stack
 * (about 400 bytes). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_LINE 255   /* characters per line, not counting LF / CRLF */
#define CFG_MAX_NAME 63    /* section name, section argument, key */

struct cfg_error {
    unsigned line;      /* 1-based; 0 when the error is not tied to a line */
    char reason[96];    /* NUL-terminated, may be cut short */
};

/* Called for every "key = value" in file order; section is "" before the
 * first header and section_arg is "" when the header has none. The strings
 * live only until the handler returns. Return NULL to accept, or a static
 * reason string to stop the parse with that error. */
typedef const char *(*cfg_handler)(void *arg, const char *section,
                                   const char *section_arg, const char *key,
                                   const char *value);

/* Parses len bytes of text (no NUL terminator needed). Stops at the first
 * error: fills *err (line and reason; for handler refusals the reason reads
 * "key '<key>': <handler reason>") and returns -1. Returns 0 on success, with
 * err->line = 0 and an empty reason. handler may be NULL to only check the
 * syntax; err may be NULL. */
int cfg_parse(const char *text, size_t len, cfg_handler handler, void *arg,
              struct cfg_error *err);

/* Decimal or 0x/0X hex digits, then an optional K, M, G or T suffix (either
 * case, binary multiples: K = 1024). No sign, whitespace or other trailing
 * text; false (and *out untouched) on overflow or malformed input. */
bool cfg_parse_u64(const char *s, uint64_t *out);

/* 1/0, yes/no, true/false, on/off, case-insensitive; false (and *out
 * untouched) for anything else. */
bool cfg_parse_bool(const char *s, bool *out);

/* Whether two strings are equal, exactly; and ignoring ASCII case (names
 * in hv.cfg, image files: a FAT ESP does not keep case reliably). */
bool cfg_equal(const char *a, const char *b);
bool cfg_equal_nocase(const char *a, const char *b);
