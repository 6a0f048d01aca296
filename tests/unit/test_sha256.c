/* lib/sha256: the FIPS 180-2 / NIST CAVS example vectors, lengths on either
 * side of the block and padding boundaries (expected values from Python's
 * hashlib, an independent implementation), and any split of the input into
 * update calls giving the same digest. */
#include "lib/sha256.h"

#include "tests/unit/check.h"

static void check_digest(const uint8_t digest[SHA256_BYTES], const char *want)
{
    char hex[SHA256_HEX_CHARS + 1];
    sha256_to_hex(digest, hex);
    CHECK_STR_EQ(hex, want);
}

static void check_message(const char *msg, const char *want)
{
    uint8_t d[SHA256_BYTES];
    sha256(msg, strlen(msg), d);
    check_digest(d, want);
}

static void nist_short_messages(void)
{
    check_message("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_message("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* 448 bits: the padding needs a second block. */
    check_message("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* 896 bits */
    check_message("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void nist_one_million_a(void)
{
    static char a[1000000];
    memset(a, 'a', sizeof(a));
    uint8_t d[SHA256_BYTES];
    sha256(a, sizeof(a), d);
    check_digest(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

    /* The same, fed in 1000 pieces of 1000 (not a multiple of the block). */
    struct sha256 s;
    sha256_init(&s);
    for (int i = 0; i < 1000; i++)
        sha256_update(&s, a + 1000 * i, 1000);
    sha256_final(&s, d);
    check_digest(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static const struct {
    size_t len;
    const char *hex;
} boundaries[] = {
#include "tests/unit/sha256_boundaries.h"
};

static void pattern(uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
}

/* 55 bytes is the longest message whose padding fits its one block; 56..63
 * need a second; 64 fills a block exactly. The same around 2 and 3 blocks. */
static void lengths_around_block_boundaries(void)
{
    uint8_t buf[256];
    for (size_t i = 0; i < sizeof(boundaries) / sizeof(boundaries[0]); i++) {
        pattern(buf, boundaries[i].len);
        uint8_t d[SHA256_BYTES];
        sha256(buf, boundaries[i].len, d);
        char hex[SHA256_HEX_CHARS + 1];
        sha256_to_hex(d, hex);
        if (strcmp(hex, boundaries[i].hex) != 0)
            printf("  length %zu\n", boundaries[i].len);
        CHECK_STR_EQ(hex, boundaries[i].hex);
    }
}

/* Every split into two updates, and byte at a time, equals one update. */
static void any_split_gives_the_same_digest(void)
{
    uint8_t buf[200], whole[SHA256_BYTES], part[SHA256_BYTES];
    pattern(buf, sizeof(buf));
    sha256(buf, sizeof(buf), whole);
    for (size_t cut = 0; cut <= sizeof(buf); cut++) {
        struct sha256 s;
        sha256_init(&s);
        sha256_update(&s, buf, cut);
        sha256_update(&s, buf + cut, sizeof(buf) - cut);
        sha256_final(&s, part);
        CHECK(memcmp(part, whole, SHA256_BYTES) == 0);
    }
    struct sha256 s;
    sha256_init(&s);
    for (size_t i = 0; i < sizeof(buf); i++)
        sha256_update(&s, buf + i, 1);
    sha256_final(&s, part);
    CHECK(memcmp(part, whole, SHA256_BYTES) == 0);
}

static void hex_round_trip_and_refusals(void)
{
    const char *hex = "BA7816BF8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    uint8_t d[SHA256_BYTES], abc[SHA256_BYTES];
    sha256("abc", 3, abc);
    CHECK(sha256_from_hex(hex, 64, d));
    CHECK(memcmp(d, abc, SHA256_BYTES) == 0);
    char back[SHA256_HEX_CHARS + 1];
    sha256_to_hex(d, back);
    CHECK_STR_EQ(back, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    uint8_t untouched[SHA256_BYTES];
    memset(untouched, 0x5a, sizeof(untouched));
    memcpy(d, untouched, sizeof(d));
    CHECK(!sha256_from_hex(hex, 63, d));             /* short */
    CHECK(!sha256_from_hex(hex, 0, d));
    char bad[65];
    memcpy(bad, hex, 65);
    bad[63] = 'g';                                    /* not a hex digit */
    CHECK(!sha256_from_hex(bad, 64, d));
    bad[63] = ' ';
    CHECK(!sha256_from_hex(bad, 64, d));
    bad[0] = 'x';
    CHECK(!sha256_from_hex(bad, 64, d));
    CHECK(memcmp(d, untouched, SHA256_BYTES) == 0);
}

int main(void)
{
    check_suite = "sha256";
    RUN_TEST(nist_short_messages);
    RUN_TEST(nist_one_million_a);
    RUN_TEST(lengths_around_block_boundaries);
    RUN_TEST(any_split_gives_the_same_digest);
    RUN_TEST(hex_round_trip_and_refusals);
    return check_finish();
}
