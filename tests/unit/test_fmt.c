/* lib/fmt: the host's snprintf is the oracle for everything C defines; the
 * documented differences (%p, NULL %s, unknown conversions) are checked
 * against literal expectations. */
#include "lib/fmt.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/unit/check.h"

#define OUT_MAX 1024

static int oracle_cases;

/* Formats the same call with both implementations and compares text and
 * returned length. Used with literal formats so -Wformat checks the table. */
#define CHECK_LIKE_SNPRINTF(...)                                             \
    do {                                                                     \
        char want_[OUT_MAX], got_[OUT_MAX];                                  \
        int want_len_ = snprintf(want_, sizeof(want_), __VA_ARGS__);         \
        size_t got_len_ = fmt_format(got_, sizeof(got_), __VA_ARGS__);       \
        CHECK(want_len_ >= 0);                                               \
        CHECK_EQ_U64(got_len_, want_len_);                                   \
        CHECK_STR_EQ(got_, want_);                                           \
        oracle_cases++;                                                      \
    } while (0)

static void check_literal(int line, const char *want, size_t got_len, const char *got)
{
    if (strcmp(want, got) != 0 || got_len != strlen(want)) {
        printf("  line %d: want \"%s\" (%zu), got \"%s\" (%zu)\n", line, want,
               strlen(want), got, got_len);
        check_case_failed = 1;
    }
}

#define CHECK_FORMATS_TO(want, ...)                                          \
    do {                                                                     \
        char got_[OUT_MAX];                                                  \
        size_t got_len_ = fmt_format(got_, sizeof(got_), __VA_ARGS__);       \
        check_literal(__LINE__, want, got_len_, got_);                       \
    } while (0)

static void literal_text_and_percent(void)
{
    CHECK_LIKE_SNPRINTF("%s", "");
    CHECK_LIKE_SNPRINTF("plain text");
    CHECK_LIKE_SNPRINTF("100%%");
    CHECK_LIKE_SNPRINTF("%%%%%%");
    CHECK_LIKE_SNPRINTF("a%%b%%c");
    CHECK_FORMATS_TO("", "%s", "");
}

static void signed_decimal(void)
{
    CHECK_LIKE_SNPRINTF("%d", 0);
    CHECK_LIKE_SNPRINTF("%d", 1);
    CHECK_LIKE_SNPRINTF("%d", -1);
    CHECK_LIKE_SNPRINTF("%d", INT_MAX);
    CHECK_LIKE_SNPRINTF("%d", INT_MIN);
    CHECK_LIKE_SNPRINTF("%i", -12345);
    CHECK_LIKE_SNPRINTF("%ld", LONG_MIN);
    CHECK_LIKE_SNPRINTF("%ld", LONG_MAX);
    CHECK_LIKE_SNPRINTF("%lld", LLONG_MIN);
    CHECK_LIKE_SNPRINTF("%lli", LLONG_MAX);
    CHECK_LIKE_SNPRINTF("%hd", (short)-32768);
    CHECK_LIKE_SNPRINTF("%hhd", (signed char)-128);
    CHECK_LIKE_SNPRINTF("%jd", INTMAX_MIN);
    CHECK_LIKE_SNPRINTF("%zd", (ptrdiff_t)-7);
    CHECK_LIKE_SNPRINTF("%td", PTRDIFF_MIN);
    CHECK_LIKE_SNPRINTF("%+d %+d %+d", 5, -5, 0);
    CHECK_LIKE_SNPRINTF("% d % d % d", 5, -5, 0);
    CHECK_LIKE_SNPRINTF("%5d|%-5d|%05d", 42, 42, 42);
    CHECK_LIKE_SNPRINTF("%+05d|% 05d", 42, 42);
    CHECK_LIKE_SNPRINTF("%.5d|%.5d|%8.5d|%-8.5d", 42, -42, -42, 42);
    CHECK_LIKE_SNPRINTF("%+.0d|% .0d|%+5.0d", 0, 0, 0);
    CHECK_LIKE_SNPRINTF("%1d|%2d", 123, -1234);
    CHECK_LIKE_SNPRINTF("%.40d", -1);
    CHECK_LIKE_SNPRINTF("%60d|%-60d|", INT_MIN, INT_MAX);
}

static void length_modifiers_truncate_arguments(void)
{
    /* Values wider than the modifier's type are converted down, as C does. */
    CHECK_LIKE_SNPRINTF("%hhd %hhu %hhx", 0x1ff, 0x1ff, 0x1ff);
    CHECK_LIKE_SNPRINTF("%hhd", 0x80);
    CHECK_LIKE_SNPRINTF("%hd %hu %hx %ho", 0x18000, 0x18000, 0x18000, 0x18000);
    CHECK_LIKE_SNPRINTF("%hhi", 255);
    CHECK_LIKE_SNPRINTF("%lu %lx %lo", ULONG_MAX, ULONG_MAX, ULONG_MAX);
    CHECK_LIKE_SNPRINTF("%llu %llX", ULLONG_MAX, ULLONG_MAX);
    CHECK_LIKE_SNPRINTF("%zu %zx", SIZE_MAX, (size_t)0xdeadbeef);
    CHECK_LIKE_SNPRINTF("%ju %jx", UINTMAX_MAX, (uintmax_t)1 << 63);
    CHECK_LIKE_SNPRINTF("%tx %to", (ptrdiff_t)255, (ptrdiff_t)8);
}

static void unsigned_conversions(void)
{
    CHECK_LIKE_SNPRINTF("%u %u %u", 0u, 1u, UINT_MAX);
    CHECK_LIKE_SNPRINTF("%x %X %o", 0xabcdefu, 0xabcdefu, 0777u);
    CHECK_LIKE_SNPRINTF("%#x %#X %#o", 0xabcu, 0xabcu, 8u);
    CHECK_LIKE_SNPRINTF("%#x|%#X|%#o", 0u, 0u, 0u);
    CHECK_LIKE_SNPRINTF("%#.0x|%#.0o|%.0o|%.0x|%.0u|", 0u, 0u, 0u, 0u, 0u);
    CHECK_LIKE_SNPRINTF("%#.3o|%#.1o|%#5o|%#-5o|", 8u, 8u, 8u, 8u);
    CHECK_LIKE_SNPRINTF("%#010x|%#-10x|%#10x|%010x", 0x1fu, 0x1fu, 0x1fu, 0x1fu);
    CHECK_LIKE_SNPRINTF("%#lx|%#llo", ULONG_MAX, ULLONG_MAX);
    CHECK_LIKE_SNPRINTF("%08u|%-8u|%8.3u", 77u, 77u, 7u);
    CHECK_LIKE_SNPRINTF("%016llx", 0x123ull);
}

static void chars_and_strings(void)
{
    CHECK_LIKE_SNPRINTF("%c%c%c", 'a', 'b', 'c');
    CHECK_LIKE_SNPRINTF("[%5c][%-5c][%1c]", 'x', 'y', 'z');
    CHECK_LIKE_SNPRINTF("[%c]", 0xe9);
    CHECK_LIKE_SNPRINTF("[%s][%10s][%-10s]", "abc", "abc", "abc");
    CHECK_LIKE_SNPRINTF("[%.2s][%.0s][%.10s][%5.1s][%-5.1s]", "abc", "abc", "abc",
                        "abc", "abc");
    CHECK_LIKE_SNPRINTF("[%2s]", "longer than width");
    CHECK_LIKE_SNPRINTF("[%s]", "with\ttab and \xc3\xa9 utf-8");
    CHECK_LIKE_SNPRINTF("[%300s]", "wide");
}

static void star_width_and_precision(void)
{
    CHECK_LIKE_SNPRINTF("[%*d]", 6, 42);
    CHECK_LIKE_SNPRINTF("[%*d]", -6, 42);
    CHECK_LIKE_SNPRINTF("[%-*d]", -6, 42);
    CHECK_LIKE_SNPRINTF("[%.*d]", 4, 42);
    CHECK_LIKE_SNPRINTF("[%.*d]", -4, 42);
    CHECK_LIKE_SNPRINTF("[%*.*s]", 8, 2, "abcdef");
    CHECK_LIKE_SNPRINTF("[%-*.*s]", 8, 2, "abcdef");
    CHECK_LIKE_SNPRINTF("[%.*s]", -1, "abcdef");
    CHECK_LIKE_SNPRINTF("[%*c]", 3, 'q');
    CHECK_LIKE_SNPRINTF("[%*x][%d]", 0, 0xau, 9);
}

/* Flags that C says another flag or a precision overrides. */
static void overridden_flags(void)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
    CHECK_LIKE_SNPRINTF("%+ d|% +d", 5, 5);
    CHECK_LIKE_SNPRINTF("%05d|%-05d|%0-5d", -42, -42, -42);
    CHECK_LIKE_SNPRINTF("%08.5d|%.0d|%.d|%5.0d|", 42, 0, 0, 0);
    CHECK_LIKE_SNPRINTF("%#10.6x|%#.6X|%#010.6x", 0x1fu, 0x1fu, 0x1fu);
    CHECK_LIKE_SNPRINTF("[%0.*d]", -1, 42);
    CHECK_LIKE_SNPRINTF("[%0*.*d]", 8, -1, 42);
    CHECK_LIKE_SNPRINTF("[%0*.*d]", 8, 3, 42);
#pragma GCC diagnostic pop
}

static void mixed_sequences(void)
{
    CHECK_LIKE_SNPRINTF("cpu %u: apic %#x, %s (%d%%)", 3u, 0x10u, "online", 99);
    CHECK_LIKE_SNPRINTF("%d%s%c%x%o%u%i", -1, "s", 'c', 255u, 8u, 7u, 6);
    CHECK_LIKE_SNPRINTF("%llu %hhu %lu %hu %zu %ju", 1ull, (unsigned char)2, 3ul,
                        (unsigned short)4, (size_t)5, (uintmax_t)6);
}

/* Builds "%<flags><width><precision><length><conv>" for every combination
 * and compares with snprintf; runtime formats keep -Wformat quiet about the
 * combinations C leaves to the implementation. */
static const char *const generated_flags[] = {
    "", "-", "0", "+", " ", "#", "-0", "+ ", "#0", "-#", "+0", " 0", "-+", "0#+", "-0+ #",
};
static const char *const generated_widths[] = { "", "1", "4", "12", "25" };
static const char *const generated_precisions[] = { "", ".", ".0", ".1", ".3", ".22" };

static void compare_generated(const char *fmt, int line, long long value, char length)
{
    char want[OUT_MAX], got[OUT_MAX];
    int want_len;
    size_t got_len;

    switch (length) {
    case 'H':
        want_len = snprintf(want, sizeof(want), fmt, (int)value);
        got_len = fmt_format(got, sizeof(got), fmt, (int)value);
        break;
    case 'l':
        want_len = snprintf(want, sizeof(want), fmt, (long)value);
        got_len = fmt_format(got, sizeof(got), fmt, (long)value);
        break;
    case 'q':
        want_len = snprintf(want, sizeof(want), fmt, value);
        got_len = fmt_format(got, sizeof(got), fmt, value);
        break;
    case 'z':
        want_len = snprintf(want, sizeof(want), fmt, (size_t)value);
        got_len = fmt_format(got, sizeof(got), fmt, (size_t)value);
        break;
    case 'j':
        want_len = snprintf(want, sizeof(want), fmt, (intmax_t)value);
        got_len = fmt_format(got, sizeof(got), fmt, (intmax_t)value);
        break;
    default:
        want_len = snprintf(want, sizeof(want), fmt, (int)value);
        got_len = fmt_format(got, sizeof(got), fmt, (int)value);
        break;
    }
    oracle_cases++;
    if (want_len < 0 || got_len != (size_t)want_len || strcmp(want, got) != 0) {
        printf("  line %d: format \"%s\" value %lld: want \"%s\", got \"%s\"\n", line,
               fmt, value, want, got);
        check_case_failed = 1;
    }
}

static void generated_integer_combinations(void)
{
    static const struct { const char *text; char kind; } lengths[] = {
        { "", 'i' }, { "hh", 'H' }, { "h", 'H' }, { "l", 'l' }, { "ll", 'q' },
        { "z", 'z' }, { "j", 'j' }, { "t", 'l' },
    };
    static const char conversions[] = "diuxXo";
    static const long long values[] = {
        0, 1, -1, 7, 8, 10, 255, 256, -128, 0x7fff, -32768, INT_MAX, INT_MIN,
        0x123456789abcdefLL, LLONG_MIN, LLONG_MAX,
    };
    char fmt[64];
    int before = oracle_cases;

    for (size_t f = 0; f < sizeof(generated_flags) / sizeof(generated_flags[0]); f++)
        for (size_t w = 0; w < sizeof(generated_widths) / sizeof(generated_widths[0]); w++)
            for (size_t p = 0; p < sizeof(generated_precisions) / sizeof(generated_precisions[0]); p++)
                for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++)
                    for (size_t c = 0; conversions[c] != '\0'; c++) {
                        snprintf(fmt, sizeof(fmt), "<%%%s%s%s%s%c>", generated_flags[f],
                                 generated_widths[w], generated_precisions[p],
                                 lengths[l].text, conversions[c]);
                        for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++)
                            compare_generated(fmt, __LINE__, values[v], lengths[l].kind);
                    }
    CHECK(oracle_cases - before > 100000);
}

static void generated_string_and_char_combinations(void)
{
    static const char *const strings[] = { "", "a", "hello", "exactly12chr", "a longer string than any width" };
    char fmt[64], want[OUT_MAX], got[OUT_MAX];

    for (size_t f = 0; f < sizeof(generated_flags) / sizeof(generated_flags[0]); f++)
        for (size_t w = 0; w < sizeof(generated_widths) / sizeof(generated_widths[0]); w++)
            for (size_t p = 0; p < sizeof(generated_precisions) / sizeof(generated_precisions[0]); p++) {
                snprintf(fmt, sizeof(fmt), "<%%%s%s%ss>", generated_flags[f],
                         generated_widths[w], generated_precisions[p]);
                for (size_t s = 0; s < sizeof(strings) / sizeof(strings[0]); s++) {
                    int want_len = snprintf(want, sizeof(want), fmt, strings[s]);
                    size_t got_len = fmt_format(got, sizeof(got), fmt, strings[s]);
                    CHECK_EQ_U64(got_len, want_len);
                    CHECK_STR_EQ(got, want);
                    oracle_cases++;
                }
                /* C gives %c no precision; only flags and width. */
                snprintf(fmt, sizeof(fmt), "<%%%s%sc>", generated_flags[f], generated_widths[w]);
                int want_len = snprintf(want, sizeof(want), fmt, 'Z');
                size_t got_len = fmt_format(got, sizeof(got), fmt, 'Z');
                CHECK_EQ_U64(got_len, want_len);
                CHECK_STR_EQ(got, want);
                oracle_cases++;
            }
}

static void pointer_is_fixed_width_hex(void)
{
    CHECK_FORMATS_TO("0x0000000000000000", "%p", (void *)0);
    CHECK_FORMATS_TO("0x00000000deadbeef", "%p", (void *)(uintptr_t)0xdeadbeef);
    CHECK_FORMATS_TO("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
    CHECK_FORMATS_TO("[  0x0000000000001000]", "[%20p]", (void *)0x1000);
    CHECK_FORMATS_TO("[0x0000000000001000  ]", "[%-20p]", (void *)0x1000);
    CHECK_FORMATS_TO("[0x0000000000001000]", "[%5p]", (void *)0x1000);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
    /* Flags other than '-', precision and length do not alter %p. */
    CHECK_FORMATS_TO("[  0x0000000000001000]", "[%020p]", (void *)0x1000);
    CHECK_FORMATS_TO("[0x0000000000001000]", "[%+#.2p]", (void *)0x1000);
    CHECK_FORMATS_TO("[0x00000000000000ab|7]", "[%lp|%d]", (void *)0xab, 7);
#pragma GCC diagnostic pop
}

static void null_string_prints_placeholder(void)
{
    const char *null_string = NULL;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-overflow"
#pragma GCC diagnostic ignored "-Wformat"
    CHECK_FORMATS_TO("(null)", "%s", null_string);
    CHECK_FORMATS_TO("[  (null)]", "[%8s]", null_string);
    CHECK_FORMATS_TO("[(null)  ]", "[%-8s]", null_string);
    CHECK_FORMATS_TO("[(nu]", "[%.3s]", null_string);
    CHECK_FORMATS_TO("[(null)|5]", "[%s|%d]", null_string, 5);
#pragma GCC diagnostic pop
}

static void precision_bounds_string_reads(void)
{
    /* Not NUL-terminated: a precision must stop the read (ASan watches). */
    char *raw = malloc(4);
    memcpy(raw, "wxyz", 4);
    CHECK_FORMATS_TO("[wxyz]", "[%.4s]", raw);
    CHECK_FORMATS_TO("[wx]", "[%.*s]", 2, raw);
    free(raw);
}

static void unknown_and_incomplete_conversions_echo(void)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
    CHECK_FORMATS_TO("a%yb", "a%yb");
    CHECK_FORMATS_TO("[%-08.3y]", "[%-08.3y]");
    CHECK_FORMATS_TO("%f|5", "%f|%d", 5);
    CHECK_FORMATS_TO("%n|%q|%L", "%n|%q|%L");
    CHECK_FORMATS_TO("%llk", "%llk");
    CHECK_FORMATS_TO("%", "%");
    CHECK_FORMATS_TO("abc%", "abc%");
    CHECK_FORMATS_TO("abc%-5", "abc%-5");
    CHECK_FORMATS_TO("x%.3l", "x%.3l");
    CHECK_FORMATS_TO("x%hh", "x%hh");
    /* A '*' argument belongs to the unknown conversion and is consumed. */
    CHECK_FORMATS_TO("%*y|9", "%*y|%d", 4, 9);
    /* Wide %lc/%ls are not supported but their argument is skipped. */
    CHECK_FORMATS_TO("%lc|%ls|3", "%lc|%ls|%d", 65, (void *)"x", 3);
    /* %% takes no argument and ignores flags and width. */
    CHECK_FORMATS_TO("%|1", "%5%|%d", 1);
#pragma GCC diagnostic pop
}

static void huge_widths_saturate(void)
{
    char buf[16];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-overflow"
#pragma GCC diagnostic ignored "-Wformat-truncation"
#pragma GCC diagnostic ignored "-Wformat"
    /* Width parsing saturates instead of wrapping to a small number. */
    CHECK_EQ_U64(fmt_format(buf, sizeof(buf), "%99999999999999999999d", 1), 0x7fffffff);
    CHECK_STR_EQ(buf, "               ");
    CHECK_EQ_U64(fmt_format(buf, sizeof(buf), "%.99999999999999999999d", 1), 0x7fffffff);
    CHECK_STR_EQ(buf, "000000000000000");
    CHECK_EQ_U64(fmt_format(buf, sizeof(buf), "%*d", INT_MIN, 1), 0x7fffffff);
    CHECK_STR_EQ(buf, "1              ");
#pragma GCC diagnostic pop
}

static void check_truncation(const char *fmt, const char *arg)
{
    char want[64], got[64 + 8];
    int full = snprintf(want, sizeof(want), fmt, arg);

    for (size_t size = 0; size <= (size_t)full + 2; size++) {
        memset(got, '@', sizeof(got));
        size_t n = fmt_format(got, size, fmt, arg);
        CHECK_EQ_U64(n, full);
        if (size > 0) {
            snprintf(want, size, fmt, arg);
            CHECK_STR_EQ(got, want);
            CHECK_EQ_U64(strlen(got), size - 1 < (size_t)full ? size - 1 : (size_t)full);
        }
        /* Nothing past the buffer may be touched. */
        for (size_t i = size; i < sizeof(got); i++)
            CHECK(got[i] == '@');
    }
}

static void truncation_matches_snprintf(void)
{
    check_truncation("hello %s!", "world");
    check_truncation("[%12s]", "pad");
    check_truncation("%-12s|", "left");
    check_truncation("%s", "");
    check_truncation("%.2s%%", "abcdef");
}

static void null_buffer_with_zero_size_counts(void)
{
    CHECK_EQ_U64(fmt_format(NULL, 0, "%d-%s", 1234, "abc"), 8);
    CHECK_EQ_U64(fmt_format(NULL, 0, "%s", ""), 0);
    char one = 'x';
    CHECK_EQ_U64(fmt_format(&one, 1, "abc"), 3);
    CHECK(one == '\0');
}

struct recorder {
    char text[4096];
    size_t len;
    size_t calls;
    int saw_empty_chunk;
};

static void record(void *arg, const char *s, size_t n)
{
    struct recorder *r = arg;
    if (n == 0)
        r->saw_empty_chunk = 1;
    CHECK(r->len + n < sizeof(r->text));
    memcpy(r->text + r->len, s, n);
    r->len += n;
    r->text[r->len] = '\0';
    r->calls++;
}

static size_t print_to(struct recorder *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = fmt_vprint(record, r, fmt, ap);
    va_end(ap);
    return n;
}

static void vprint_streams_everything(void)
{
    struct recorder r = {0};
    char want[4096];
    int want_len = snprintf(want, sizeof(want), "start %2000d|%-1500s|end %x", -5, "str", 0xbeefu);

    size_t n = print_to(&r, "start %2000d|%-1500s|end %x", -5, "str", 0xbeefu);
    CHECK_EQ_U64(n, want_len);
    CHECK_EQ_U64(r.len, want_len);
    CHECK_STR_EQ(r.text, want);
    CHECK(!r.saw_empty_chunk);
    /* Padding comes in blocks, not one call per character. */
    CHECK(r.calls < 200);

    struct recorder empty = {0};
    CHECK_EQ_U64(print_to(&empty, "%s", ""), 0);
    CHECK_EQ_U64(empty.calls, 0);
}

static size_t vformat_twice(char *a, char *b, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* fmt_vformat must not consume the caller's va_list state. */
    va_list copy;
    va_copy(copy, ap);
    size_t n = fmt_vformat(a, size, fmt, ap);
    fmt_vformat(b, size, fmt, copy);
    va_end(copy);
    va_end(ap);
    return n;
}

static void vformat_with_va_list(void)
{
    char a[64], b[64];
    size_t n = vformat_twice(a, b, sizeof(a), "%d %s %llx", 12, "ab", 0xfffull);
    CHECK_EQ_U64(n, 9);
    CHECK_STR_EQ(a, "12 ab fff");
    CHECK_STR_EQ(b, "12 ab fff");
}

int main(void)
{
    check_suite = "fmt";
    RUN_TEST(literal_text_and_percent);
    RUN_TEST(signed_decimal);
    RUN_TEST(length_modifiers_truncate_arguments);
    RUN_TEST(unsigned_conversions);
    RUN_TEST(chars_and_strings);
    RUN_TEST(star_width_and_precision);
    RUN_TEST(overridden_flags);
    RUN_TEST(mixed_sequences);
    RUN_TEST(generated_integer_combinations);
    RUN_TEST(generated_string_and_char_combinations);
    RUN_TEST(pointer_is_fixed_width_hex);
    RUN_TEST(null_string_prints_placeholder);
    RUN_TEST(precision_bounds_string_reads);
    RUN_TEST(unknown_and_incomplete_conversions_echo);
    RUN_TEST(huge_widths_saturate);
    RUN_TEST(truncation_matches_snprintf);
    RUN_TEST(null_buffer_with_zero_size_counts);
    RUN_TEST(vprint_streams_everything);
    RUN_TEST(vformat_with_va_list);
    printf("  (%d cases compared with snprintf)\n", oracle_cases);
    return check_finish();
}
