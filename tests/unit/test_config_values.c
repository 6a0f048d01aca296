/* hv/config: the tokenizer on fuzzed input (every token it hands over obeys
 * the grammar) and the value helpers cfg_parse_u64 and the yes/no words
 * (tests/unit/config_fixture.h). */
#include "tests/unit/config_fixture.h"

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
    check_suite = "config_values";
    RUN_TEST(fuzzed_input_never_misbehaves);
    RUN_TEST(parse_u64_accepts);
    RUN_TEST(parse_u64_refuses);
    RUN_TEST(parse_bool_words);
    return check_finish();
}
