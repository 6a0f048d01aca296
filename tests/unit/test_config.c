/* hv/config: the hv.cfg tokenizer and its value helpers. */
#include "hv/config/config.h"

#include <stdbool.h>
#include <stdint.h>

#include "tests/unit/check.h"

/* Every handler call is logged as "section|arg|key=value\n". */
struct log {
    char text[8192];
    size_t len;
    unsigned calls;
    const char *refuse_key;     /* refuse this key ... */
    const char *refuse_reason;  /* ... with this reason */
};

static const char *record(void *arg, const char *section, const char *section_arg,
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
static int parse_text(const char *text, size_t len, struct log *log, struct cfg_error *err)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    int rc = cfg_parse(copy, len, record, log, err);
    free(copy);
    return rc;
}

static void check_parses_to(int line, const char *text, size_t len, const char *want)
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

static void check_fails(int line, const char *text, size_t len, unsigned want_line,
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

static void example_file(void)
{
    PARSES_TO("# hv.cfg\n"
              "; written by the QEMU runner\n"
              "\n"
              "[hv]\n"
              "log_level = debug\n"
              "qemu_exit_port = 0xf4\n"
              "[guest hello]        # section with an argument\n"
              "memory = 16M\n",
              "hv||log_level=debug\n"
              "hv||qemu_exit_port=0xf4\n"
              "guest|hello|memory=16M\n");
}

static void sections_and_arguments(void)
{
    PARSES_TO("top = 1\n[a]\nk = 2\n", "||top=1\na||k=2\n");
    PARSES_TO("[guest g-1.x_Y]\nk=v\n[other]\nk=w\n", "guest|g-1.x_Y|k=v\nother||k=w\n");
    PARSES_TO("[ guest \t name ]\nk=v\n", "guest|name|k=v\n");
    PARSES_TO("  [hv]  \nk=v\n", "hv||k=v\n");
    PARSES_TO("[hv]# comment\nk=v\n[x];c\nk=w\n", "hv||k=v\nx||k=w\n");
    PARSES_TO("[guest ]\nk=v\n", "guest||k=v\n");
    PARSES_TO("[A_9]\n[b]\n", "");
    PARSES_TO("[" NAME63
              " " ARG63 "]\n"
              "k=v\n",
              NAME63 "|" ARG63 "|k=v\n");
}

static void comments_and_blank_lines(void)
{
    PARSES_TO("", "");
    PARSES_TO("\n\n\n", "");
    PARSES_TO("   \n\t\n", "");
    PARSES_TO("# a\n; b\n   # indented\n\t; tabbed\n", "");
    PARSES_TO("#[not a section]\n;k = v\n", "");
    PARSES_TO("# comment with \xc3\xa9 utf-8 and = signs\n", "");
}

static void values(void)
{
    PARSES_TO("k = v\n", "||k=v\n");
    PARSES_TO("k=v\n", "||k=v\n");
    PARSES_TO("  k \t=\t  v  \t\n", "||k=v\n");
    PARSES_TO("k = a b  c\n", "||k=a b  c\n");
    PARSES_TO("k = v # comment\n", "||k=v\n");
    PARSES_TO("k = v\t# comment\n", "||k=v\n");
    PARSES_TO("k = a#b\n", "||k=a#b\n");
    PARSES_TO("k =#x\n", "||k=#x\n");
    PARSES_TO("k = # only a comment\n", "||k=\n");
    PARSES_TO("k = a;b ; c\n", "||k=a;b ; c\n");
    PARSES_TO("k =\n", "||k=\n");
    PARSES_TO("k =   \n", "||k=\n");
    PARSES_TO("k = a = b\n", "||k=a = b\n");
    PARSES_TO("k = \xc3\xa9t\xc3\xa9\n", "||k=\xc3\xa9t\xc3\xa9\n");
    PARSES_TO("k = a\"b\"\n", "||k=a\"b\"\n");
    PARSES_TO("K_9 = 1\n", "||K_9=1\n");
}

static void quoted_values(void)
{
    PARSES_TO("k = \"a # b\"\n", "||k=a # b\n");
    PARSES_TO("k = \"  padded  \"\n", "||k=  padded  \n");
    PARSES_TO("k = \"\"\n", "||k=\n");
    PARSES_TO("k = \"x\"   # comment\n", "||k=x\n");
    PARSES_TO("k = \"x\"#comment\n", "||k=x\n");
    PARSES_TO("k = \"x\"  \n", "||k=x\n");
    PARSES_TO("k=\"a;b=c[d]\"\n", "||k=a;b=c[d]\n");
}

static void line_endings_and_bom(void)
{
    PARSES_TO("[hv]\r\nk = v\r\nq = \"x\"\r\n", "hv||k=v\nhv||q=x\n");
    PARSES_TO("[hv]\nk = v\r\nq = w", "hv||k=v\nhv||q=w\n");
    PARSES_TO("k = v\r", "||k=v\n");
    PARSES_TO("k = last line without newline", "||k=last line without newline\n");
    PARSES_TO("\xef\xbb\xbf[hv]\nk = v\n", "hv||k=v\n");
    PARSES_TO("\xef\xbb\xbf", "");
    PARSES_TO("\xef\xbb\xbfk=v", "||k=v\n");
    /* Only the very first bytes may be a BOM. */
    FAILS("\n\xef\xbb\xbfk = v\n", 2, "invalid character in key");
    FAILS("\xef\xbb\xbf\xef\xbb\xbfk = v\n", 1, "invalid character in key");
    FAILS("\xef\xbbk = v\n", 1, "invalid character in key");
    /* A bare CR elsewhere is a control character. */
    FAILS("k = a\rb\n", 1, "control character");
    FAILS("k = v\r\r\n", 1, "control character");
    FAILS("k = v\n\r\n\rx = 1\n", 3, "control character");
}

static void length_is_respected(void)
{
    const char text[] = "a = 1\nb = 2\nc = 3\n";
    struct log log = {0};
    CHECK_EQ_U64(parse_text(text, 9, &log, NULL), 0);   /* ends in "b =" */
    CHECK_STR_EQ(log.text, "||a=1\n||b=\n");
    struct log empty = {0};
    CHECK_EQ_U64(parse_text(text, 0, &empty, NULL), 0);
    CHECK_EQ_U64(empty.calls, 0);
    struct log cut = {0};
    CHECK_EQ_U64(parse_text("[hv]", 3, &cut, NULL), -1);   /* "[hv" */
}

static void null_text_and_null_outputs(void)
{
    struct cfg_error err;
    CHECK_EQ_U64(cfg_parse(NULL, 0, record, NULL, &err), 0);
    CHECK_EQ_U64(cfg_parse(NULL, 5, record, NULL, &err), -1);
    CHECK_STR_EQ(err.reason, "no text");
    /* No handler: syntax check only. No err: still reports failure. */
    CHECK_EQ_U64(cfg_parse("[hv]\nk = v\n", 11, NULL, NULL, NULL), 0);
    CHECK_EQ_U64(cfg_parse("[hv\n", 4, NULL, NULL, NULL), -1);
    CHECK_EQ_U64(cfg_parse("k\n", 2, record, NULL, NULL), -1);
}

static void success_clears_error(void)
{
    struct cfg_error err;
    memset(&err, 0x7a, sizeof(err));
    struct log log = {0};
    CHECK_EQ_U64(cfg_parse("k=v\n", 4, record, &log, &err), 0);
    CHECK_EQ_U64(err.line, 0);
    CHECK_STR_EQ(err.reason, "");
}

static void nul_and_control_bytes(void)
{
    FAILS("k = a\0b\n", 1, "NUL byte");
    FAILS("[hv]\n# comment \0 here\n", 2, "NUL byte");
    FAILS("k = v\n\0", 2, "NUL byte");
    FAILS("\0", 1, "NUL byte");
    FAILS("k = \x01\n", 1, "control character");
    FAILS("k = \x1b[0m\n", 1, "control character");
    FAILS("# \x7f\n", 1, "control character");
    FAILS("k = v\f\n", 1, "control character");
    PARSES_TO("k =\tv\t\n", "||k=v\n");
    PARSES_TO("k = \x80\xff\n", "||k=\x80\xff\n");
}

static void overlong_lines(void)
{
    char text[600];
    struct log log;
    struct cfg_error err;

    /* 255 characters is the limit, not counting LF or CRLF. */
    memset(text, 'v', sizeof(text));
    memcpy(text, "k = ", 4);
    text[255] = '\n';
    log = (struct log){0};
    CHECK_EQ_U64(parse_text(text, 256, &log, &err), 0);
    CHECK_EQ_U64(log.calls, 1);
    text[255] = '\r';
    text[256] = '\n';
    log = (struct log){0};
    CHECK_EQ_U64(parse_text(text, 257, &log, &err), 0);
    /* Also without a final line ending. */
    CHECK_EQ_U64(parse_text(text, 255, &log, &err), 0);

    text[255] = 'v';
    text[256] = '\n';
    CHECK_EQ_U64(parse_text(text, 257, &log, &err), -1);
    CHECK_EQ_U64(err.line, 1);
    CHECK_STR_EQ(err.reason, "line too long");
    CHECK_EQ_U64(parse_text(text, 256, &log, &err), -1);
    CHECK_STR_EQ(err.reason, "line too long");

    /* Comments and blank-looking lines count too. */
    memset(text, ' ', sizeof(text));
    memcpy(text, "[hv]\n#", 6);
    text[sizeof(text) - 1] = '\n';
    CHECK_EQ_U64(parse_text(text, sizeof(text), &log, &err), -1);
    CHECK_EQ_U64(err.line, 2);
    CHECK_STR_EQ(err.reason, "line too long");
}

static void malformed_section_headers(void)
{
    FAILS("[\n", 1, "missing ']' in section header");
    FAILS("[hv\n", 1, "missing ']' in section header");
    FAILS("[hv ", 1, "missing ']' in section header");
    FAILS("[guest a\n", 1, "missing ']' in section header");
    FAILS("[guest a \n", 1, "missing ']' in section header");
    FAILS("[]\n", 1, "empty section name");
    FAILS("[ \t ]\n", 1, "empty section name");
    FAILS("[h!v]\n", 1, "invalid character in section name");
    FAILS("[=]\n", 1, "invalid character in section name");
    FAILS("[[hv]]\n", 1, "invalid character in section name");
    FAILS("[.hv]\n", 1, "invalid character in section name");
    FAILS("[h.v]\n", 1, "invalid character in section name");
    FAILS("[hv]]\n", 1, "unexpected text after section header");
    FAILS("[hv] junk\n", 1, "unexpected text after section header");
    FAILS("[hv]x\n", 1, "unexpected text after section header");
    FAILS("[hv] = 1\n", 1, "unexpected text after section header");
    FAILS("[guest a b]\n", 1, "more than one section argument");
    FAILS("[guest a\tb]\n", 1, "more than one section argument");
    FAILS("[guest a/b]\n", 1, "invalid character in section argument");
    FAILS("[guest a,b]\n", 1, "invalid character in section argument");
    FAILS("[guest \"a\"]\n", 1, "invalid character in section argument");
    FAILS("[guest a ]x]\n", 1, "unexpected text after section header");
    FAILS("[guest a !]\n", 1, "invalid character in section argument");
    FAILS("[guest \xc3\xa9]\n", 1, "invalid character in section argument");
    FAILS("[hv]\nk=v\n\n[bad\n", 4, "missing ']' in section header");
    /* 64 characters is one too many for names and arguments. */
    FAILS("[" NAME64 "]\n", 1,
          "section name too long");
    FAILS("[g " ARG64 "]\n", 1,
          "section argument too long");
}

static void malformed_assignments(void)
{
    FAILS("k\n", 1, "missing '=' after key");
    FAILS("k  \n", 1, "missing '=' after key");
    FAILS("key value\n", 1, "missing '=' after key");
    FAILS("my key = v\n", 1, "missing '=' after key");
    FAILS("k : v\n", 1, "missing '=' after key");
    FAILS("= v\n", 1, "empty key");
    FAILS("  =v\n", 1, "empty key");
    FAILS("=\n", 1, "empty key");
    FAILS("ke-y = v\n", 1, "invalid character in key");
    FAILS("k.y = v\n", 1, "invalid character in key");
    FAILS("k:v\n", 1, "invalid character in key");
    FAILS("!k = v\n", 1, "invalid character in key");
    FAILS("\"k\" = v\n", 1, "invalid character in key");
    FAILS("\xc3\xa9 = v\n", 1, "invalid character in key");
    FAILS("]\n", 1, "invalid character in key");
    FAILS("k = \"abc\n", 1, "unterminated quoted value");
    FAILS("k = \"\n", 1, "unterminated quoted value");
    FAILS("k = \"a\" b\n", 1, "unexpected text after quoted value");
    FAILS("k = \"a\"b\n", 1, "unexpected text after quoted value");
    FAILS("k = \"a\" ; c\n", 1, "unexpected text after quoted value");
    FAILS("k = \"a\"\"b\"\n", 1, "unexpected text after quoted value");
    FAILS(NAME64 " = v\n", 1,
          "key too long");
    PARSES_TO(NAME63 " = v\n", "||" NAME63 "=v\n");
}

static void errors_stop_the_parse_and_name_the_line(void)
{
    struct log log = {0};
    struct cfg_error err;
    const char text[] = "a = 1\r\n\r\n# c\r\nb = 2\r\nbad line\r\nc = 3\r\n";

    CHECK_EQ_U64(parse_text(text, sizeof(text) - 1, &log, &err), -1);
    CHECK_EQ_U64(err.line, 5);
    CHECK_STR_EQ(err.reason, "missing '=' after key");
    /* Nothing after the error reaches the handler. */
    CHECK_STR_EQ(log.text, "||a=1\n||b=2\n");

    FAILS("\xef\xbb\xbf\n\nk\n", 3, "missing '=' after key");
}

static void handler_refusal_names_the_key(void)
{
    struct log log = { .refuse_key = "memory", .refuse_reason = "bad size" };
    struct cfg_error err;
    const char text[] = "[guest a]\nname = x\nmemory = 16Q\nafter = 1\n";

    CHECK_EQ_U64(parse_text(text, sizeof(text) - 1, &log, &err), -1);
    CHECK_EQ_U64(err.line, 3);
    CHECK_STR_EQ(err.reason, "key 'memory': bad size");
    CHECK_STR_EQ(log.text, "guest|a|name=x\nguest|a|memory=16Q\n");

    /* An empty reason is still a refusal. */
    struct log quiet = { .refuse_key = "k", .refuse_reason = "" };
    CHECK_EQ_U64(parse_text("k = v\n", 6, &quiet, &err), -1);
    CHECK_STR_EQ(err.reason, "key 'k': rejected");

    /* Long key and reason: cut to fit, still terminated. */
    static const char long_key[] = NAME63;
    static const char long_reason[] =
        "this reason is much longer than the space left in the error buffer after the key";
    char line[160];
    int n = snprintf(line, sizeof(line), "%s = v\n", long_key);
    struct log wordy = { .refuse_key = long_key, .refuse_reason = long_reason };
    memset(&err, 0x41, sizeof(err));
    CHECK_EQ_U64(parse_text(line, (size_t)n, &wordy, &err), -1);
    CHECK_EQ_U64(strnlen(err.reason, sizeof(err.reason)), sizeof(err.reason) - 1);
    CHECK(strncmp(err.reason, "key 'abcdefghij", 15) == 0);
}

/* Handler used by the fuzz test: everything it sees must obey the grammar. */
static const char *check_tokens(void *arg, const char *section, const char *section_arg,
                                const char *key, const char *value)
{
    static unsigned total_calls;
    unsigned *calls = arg;
    (*calls)++;
    total_calls++;
    CHECK(strlen(section) <= CFG_MAX_NAME);
    CHECK(strlen(section_arg) <= CFG_MAX_NAME);
    CHECK(strlen(key) >= 1 && strlen(key) <= CFG_MAX_NAME);
    CHECK(strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
          strlen(key));
    CHECK(strspn(section_arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "0123456789_.-") == strlen(section_arg));
    CHECK(strlen(value) <= CFG_MAX_LINE);
    for (const char *v = value; *v != '\0'; v++)
        CHECK((unsigned char)*v >= 0x20 || *v == '\t');
    return (total_calls % 97 == 0) ? "fuzz refusal" : NULL;
}

static void fuzzed_input_never_misbehaves(void)
{
    static const char seed[] = "\xef\xbb\xbf# hv.cfg\r\n[hv]\nlog_level = debug # c\n"
                               "[guest g-1]\nmemory = \"16 M\"\n; x\nport=0xf4\n";
    static const char alphabet[] = "[]=#;\"\r\n\t \0\x7f\xef\xbb\xbf-._aZ9";
    uint64_t state = 0x243f6a8885a308d3ull;
    char text[sizeof(seed) + 300];
    int ok = 0, failed = 0;

    for (int round = 0; round < 100000; round++) {
        size_t len = sizeof(seed) - 1;
        memcpy(text, seed, len);
        int edits = 1 + (int)(state % 6);
        for (int e = 0; e < edits; e++) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            size_t at = (size_t)(state >> 8) % (len + 1);
            char c = alphabet[(state >> 40) % (sizeof(alphabet) - 1)];
            switch ((state >> 56) % 4) {
            case 0: if (at < len) text[at] = c; break;                  /* replace */
            case 1: if (at < len) { memmove(text + at, text + at + 1, len - at - 1); len--; } break;
            case 2: if (len < sizeof(text)) { memmove(text + at + 1, text + at, len - at); text[at] = c; len++; } break;
            default: /* a run of one character, sometimes past the line limit */
                for (size_t k = 0; k < 150 && len < sizeof(text); k++) {
                    memmove(text + at + 1, text + at, len - at);
                    text[at] = 'x';
                    len++;
                }
                break;
            }
        }
        unsigned calls = 0;
        struct cfg_error err;
        char *copy = malloc(len ? len : 1);
        memcpy(copy, text, len);
        int rc = cfg_parse(copy, len, check_tokens, &calls, &err);
        free(copy);
        if (rc == 0) {
            ok++;
            CHECK_EQ_U64(err.line, 0);
        } else {
            failed++;
            CHECK_EQ_U64(rc, -1);
            CHECK(err.line >= 1 && err.line <= len);
            CHECK(err.reason[0] != '\0');
            CHECK(strnlen(err.reason, sizeof(err.reason)) < sizeof(err.reason));
        }
        if (check_case_failed) {
            printf("  round %d\n", round);
            return;
        }
    }
    /* Both outcomes must be well represented for the fuzz to mean much. */
    CHECK(ok > 1000);
    CHECK(failed > 1000);
}

static void parse_u64_accepts(void)
{
    static const struct { const char *text; uint64_t value; } cases[] = {
        { "0", 0 }, { "7", 7 }, { "007", 7 }, { "42", 42 },
        { "0x0", 0 }, { "0x10", 16 }, { "0XfF", 255 }, { "0xDeadBeef", 0xdeadbeef },
        { "1K", 1024 }, { "1k", 1024 }, { "16M", 16ull << 20 }, { "16m", 16ull << 20 },
        { "4G", 4ull << 30 }, { "4g", 4ull << 30 }, { "2T", 2ull << 40 }, { "2t", 2ull << 40 },
        { "0K", 0 }, { "0x10K", 16ull << 10 }, { "0x1T", 1ull << 40 }, { "0x1g", 1ull << 30 },
        { "18446744073709551615", UINT64_MAX }, { "0xffffffffffffffff", UINT64_MAX },
        { "0x00000000000000000000001", 1 }, { "16777215T", 16777215ull << 40 },
        { "17179869183G", 17179869183ull << 30 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t out = 12345;
        if (!cfg_parse_u64(cases[i].text, &out) || out != cases[i].value) {
            printf("  \"%s\" -> %#llx, want %#llx\n", cases[i].text, (unsigned long long)out,
                   (unsigned long long)cases[i].value);
            check_case_failed = 1;
        }
    }
}

static void parse_u64_refuses(void)
{
    static const char *const bad[] = {
        "", "0x", "0X", "x10", "-1", "+1", " 1", "1 ", "1\t", "1KB", "1Ki", "1KK", "12a",
        "0x1h", "0xg", "K", "1.5M", "0b101", "1e3", "0x-1", "00x1", "1_000",
        "18446744073709551616", "99999999999999999999999", "0x10000000000000000",
        "16777216T", "17179869184G", "17592186044416M", "18014398509481984K",
        "0xffffffffffffffffK",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t out = 12345;
        if (cfg_parse_u64(bad[i], &out) || out != 12345) {
            printf("  \"%s\" accepted or clobbered output\n", bad[i]);
            check_case_failed = 1;
        }
    }
    uint64_t out = 1;
    CHECK(!cfg_parse_u64(NULL, &out));
    CHECK(!cfg_parse_u64("1", NULL));
}

static void parse_bool_words(void)
{
    static const char *const yes[] = { "1", "yes", "YES", "Yes", "true", "TRUE", "tRuE", "on", "ON", "oN" };
    static const char *const no[] = { "0", "no", "NO", "No", "false", "FALSE", "False", "off", "OFF", "oFf" };
    static const char *const bad[] = { "", "y", "n", "2", "01", "yes ", " no", "onn", "of", "o",
                                       "tru", "truee", "falsey", "nope", "\xc3\xa9" };

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        bool out = false;
        CHECK(cfg_parse_bool(yes[i], &out));
        CHECK(out == true);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        bool out = true;
        CHECK(cfg_parse_bool(no[i], &out));
        CHECK(out == false);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bool out = true;
        if (cfg_parse_bool(bad[i], &out) || out != true) {
            printf("  \"%s\" accepted or clobbered output\n", bad[i]);
            check_case_failed = 1;
        }
    }
    bool out = false;
    CHECK(!cfg_parse_bool(NULL, &out));
    CHECK(!cfg_parse_bool("yes", NULL));
}

int main(void)
{
    check_suite = "config";
    RUN_TEST(example_file);
    RUN_TEST(sections_and_arguments);
    RUN_TEST(comments_and_blank_lines);
    RUN_TEST(values);
    RUN_TEST(quoted_values);
    RUN_TEST(line_endings_and_bom);
    RUN_TEST(length_is_respected);
    RUN_TEST(null_text_and_null_outputs);
    RUN_TEST(success_clears_error);
    RUN_TEST(nul_and_control_bytes);
    RUN_TEST(overlong_lines);
    RUN_TEST(malformed_section_headers);
    RUN_TEST(malformed_assignments);
    RUN_TEST(errors_stop_the_parse_and_name_the_line);
    RUN_TEST(handler_refusal_names_the_key);
    RUN_TEST(fuzzed_input_never_misbehaves);
    RUN_TEST(parse_u64_accepts);
    RUN_TEST(parse_u64_refuses);
    RUN_TEST(parse_bool_words);
    return check_finish();
}
