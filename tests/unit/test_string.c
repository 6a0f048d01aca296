/* lib/string, built with -DLIB_STRING_TEST_PREFIX so its functions are
 * lib_memcpy etc. and can be compared with the host libc. */
#ifndef LIB_STRING_TEST_PREFIX
#error "build with string_CFLAGS (-DLIB_STRING_TEST_PREFIX)"
#endif

#include "lib/string.h"

#include <stdint.h>

#include "tests/unit/check.h"

#define ARENA 96

static unsigned char arena[ARENA];
static unsigned char expect[ARENA];

static void fill_pattern(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed * 31u + i * 7u + 1u);
}

static int sign_of(int v)
{
    return (v > 0) - (v < 0);
}

static void memcpy_all_offsets_and_lengths(void)
{
    unsigned char src[64];
    fill_pattern(src, sizeof(src), 3);

    for (size_t off = 0; off < 16; off++)
        for (size_t len = 0; len <= 64 && off + len <= ARENA; len++) {
            memset(arena, 0xa5, ARENA);
            memset(expect, 0xa5, ARENA);
            memcpy(expect + off, src, len);
            void *ret = lib_memcpy(arena + off, src, len);
            CHECK(ret == arena + off);
            CHECK(memcmp(arena, expect, ARENA) == 0);
        }
}

static void memmove_overlaps_both_directions(void)
{
    for (size_t src_off = 0; src_off < 24; src_off++)
        for (size_t dst_off = 0; dst_off < 24; dst_off++)
            for (size_t len = 0; len <= 40; len++) {
                fill_pattern(arena, ARENA, (unsigned)(src_off + dst_off));
                memcpy(expect, arena, ARENA);
                memmove(expect + dst_off, expect + src_off, len);
                void *ret = lib_memmove(arena + dst_off, arena + src_off, len);
                CHECK(ret == arena + dst_off);
                if (memcmp(arena, expect, ARENA) != 0) {
                    printf("  memmove src+%zu dst+%zu len %zu differs\n", src_off, dst_off, len);
                    check_case_failed = 1;
                    return;
                }
            }
}

static void memmove_distinct_buffers(void)
{
    unsigned char a[32], b[32];
    fill_pattern(a, sizeof(a), 9);
    memset(b, 0, sizeof(b));
    CHECK(lib_memmove(b, a, sizeof(a)) == b);
    CHECK(memcmp(a, b, sizeof(a)) == 0);
    /* Source after destination in memory. */
    fill_pattern(b, sizeof(b), 4);
    CHECK(lib_memmove(a, b, 0) == a);
    CHECK(lib_memmove(a, b, 16) == a);
    CHECK(memcmp(a, b, 16) == 0);
}

static void memset_uses_low_byte_and_stays_in_bounds(void)
{
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len <= 64; len++) {
            memset(arena, 0x11, ARENA);
            memset(expect, 0x11, ARENA);
            memset(expect + off, 0xcd, len);
            void *ret = lib_memset(arena + off, 0x7cd, len);
            CHECK(ret == arena + off);
            CHECK(memcmp(arena, expect, ARENA) == 0);
        }
    memset(arena, 0, ARENA);
    lib_memset(arena, -1, 4);
    CHECK(arena[0] == 0xff && arena[3] == 0xff && arena[4] == 0);
}

static void memcmp_orders_as_unsigned(void)
{
    const unsigned char lo[] = { 1, 2, 3, 0x01 };
    const unsigned char hi[] = { 1, 2, 3, 0x80 };

    CHECK(lib_memcmp(lo, hi, 4) < 0);
    CHECK(lib_memcmp(hi, lo, 4) > 0);
    CHECK(lib_memcmp(lo, hi, 3) == 0);
    CHECK(lib_memcmp(lo, hi, 0) == 0);
    CHECK(lib_memcmp(lo, lo, 4) == 0);
    /* Only the first difference matters. */
    const unsigned char x[] = { 5, 0x00, 0xff };
    const unsigned char y[] = { 5, 0xff, 0x00 };
    CHECK(lib_memcmp(x, y, 3) < 0);
    CHECK(lib_memcmp(y, x, 3) > 0);

    unsigned char a[40], b[40];
    for (size_t i = 0; i < 40; i++) {
        fill_pattern(a, 40, 1);
        memcpy(b, a, 40);
        b[i] ^= 0x81;
        CHECK_EQ_U64(sign_of(lib_memcmp(a, b, 40)), sign_of(memcmp(a, b, 40)));
        CHECK_EQ_U64(lib_memcmp(a, b, i), 0);
    }
}

static void strlen_and_strnlen(void)
{
    CHECK_EQ_U64(lib_strlen(""), 0);
    CHECK_EQ_U64(lib_strlen("a"), 1);
    CHECK_EQ_U64(lib_strlen("hello\0world"), 5);
    CHECK_EQ_U64(lib_strlen("\xff\x80"), 2);

    CHECK_EQ_U64(lib_strnlen("hello", 0), 0);
    CHECK_EQ_U64(lib_strnlen("hello", 3), 3);
    CHECK_EQ_U64(lib_strnlen("hello", 5), 5);
    CHECK_EQ_U64(lib_strnlen("hello", 99), 5);
    CHECK_EQ_U64(lib_strnlen("hello", SIZE_MAX), 5);

    /* Unterminated heap buffer: reading one byte past max trips ASan. */
    char *raw = malloc(4);
    memcpy(raw, "abcd", 4);
    CHECK_EQ_U64(lib_strnlen(raw, 4), 4);
    CHECK_EQ_U64(lib_strnlen(raw, 2), 2);
    free(raw);
}

static void strcmp_orders_as_unsigned(void)
{
    CHECK(lib_strcmp("", "") == 0);
    CHECK(lib_strcmp("abc", "abc") == 0);
    CHECK(lib_strcmp("abc", "abd") < 0);
    CHECK(lib_strcmp("abd", "abc") > 0);
    CHECK(lib_strcmp("ab", "abc") < 0);
    CHECK(lib_strcmp("abc", "ab") > 0);
    CHECK(lib_strcmp("", "a") < 0);
    CHECK(lib_strcmp("a", "") > 0);
    CHECK(lib_strcmp("a\x80", "a\x01") > 0);
    CHECK(lib_strcmp("\xff", "a") > 0);
}

static void strncmp_stops_at_n_and_terminator(void)
{
    CHECK(lib_strncmp("abc", "abd", 0) == 0);
    CHECK(lib_strncmp("abc", "abd", 2) == 0);
    CHECK(lib_strncmp("abc", "abd", 3) < 0);
    CHECK(lib_strncmp("abd", "abc", 99) > 0);
    CHECK(lib_strncmp("ab", "abc", 3) < 0);
    CHECK(lib_strncmp("ab", "abc", 2) == 0);
    CHECK(lib_strncmp("ab\0x", "ab\0y", 4) == 0);
    CHECK(lib_strncmp("\x80", "\x7f", 1) > 0);
    CHECK(lib_strncmp("same", "same", SIZE_MAX) == 0);

    /* Unterminated arrays, equal up to n: must not read past n. */
    char *a = malloc(3), *b = malloc(3);
    memcpy(a, "xyz", 3);
    memcpy(b, "xyz", 3);
    CHECK(lib_strncmp(a, b, 3) == 0);
    free(a);
    free(b);
}

static void strchr_and_strrchr(void)
{
    const char *s = "hello, world";

    CHECK(lib_strchr(s, 'o') == s + 4);
    CHECK(lib_strrchr(s, 'o') == s + 8);
    CHECK(lib_strchr(s, 'h') == s);
    CHECK(lib_strrchr(s, 'h') == s);
    CHECK(lib_strchr(s, 'd') == s + 11);
    CHECK(lib_strchr(s, 'z') == NULL);
    CHECK(lib_strrchr(s, 'z') == NULL);
    /* The terminator is part of the string. */
    CHECK(lib_strchr(s, '\0') == s + 12);
    CHECK(lib_strrchr(s, '\0') == s + 12);
    CHECK(lib_strchr("", '\0') != NULL);
    CHECK(lib_strchr("", 'a') == NULL);
    /* c is converted to char: high bytes and values above 255 both work. */
    const char *hi = "a\xe9" "b\xe9";
    CHECK(lib_strchr(hi, 0xe9) == hi + 1);
    CHECK(lib_strchr(hi, (char)0xe9) == hi + 1);
    CHECK(lib_strrchr(hi, 0xe9) == hi + 3);
    CHECK(lib_strchr(hi, 0x100 + 'b') == hi + 2);
    /* Nothing after the terminator is looked at. */
    const char *cut = "ab\0cb";
    CHECK(lib_strchr(cut, 'c') == NULL);
    CHECK(lib_strrchr(cut, 'b') == cut + 1);
}

int main(void)
{
    check_suite = "string";
    RUN_TEST(memcpy_all_offsets_and_lengths);
    RUN_TEST(memmove_overlaps_both_directions);
    RUN_TEST(memmove_distinct_buffers);
    RUN_TEST(memset_uses_low_byte_and_stays_in_bounds);
    RUN_TEST(memcmp_orders_as_unsigned);
    RUN_TEST(strlen_and_strnlen);
    RUN_TEST(strcmp_orders_as_unsigned);
    RUN_TEST(strncmp_stops_at_n_and_terminator);
    RUN_TEST(strchr_and_strrchr);
    return check_finish();
}
