/* hvlz (lib/lz.h, tools/lz_pack.c): round trips through the packer and the
 * stub's decoder on inputs of every shape (empty, one byte, runs, text,
 * random, far and near repeats, the limits of each field, real code), with
 * the packed sizes they must reach. Streams by hand and damaged ones:
 * tests/unit/test_lz_hand.c. */
#include "tests/unit/lz_fixture.h"

#include <elf.h>

/* Packs, checks the decoder gives the input back, returns the packed size. */
static size_t round_trip(const uint8_t *in, size_t n)
{
    uint8_t *packed = malloc(lz_pack_bound(n));
    uint8_t *out = malloc(n + 1);
    size_t size = lz_pack(in, n, packed);
    CHECK(size >= LZ_HEADER_BYTES && size <= lz_pack_bound(n));
    CHECK_EQ_U64(lz_unpacked_size(packed, size), n);
    CHECK_EQ_U64(lz_unpack(packed, size, out, n), 0);
    CHECK(n == 0 || memcmp(in, out, n) == 0);
    free(packed);
    free(out);
    return size;
}

static void empty_and_tiny(void)
{
    CHECK_EQ_U64(round_trip((const uint8_t *)"", 0), LZ_PREFIX_BYTES);
    /* The literal, and the lone token's one-bit code in a byte. */
    CHECK_EQ_U64(round_trip((const uint8_t *)"a", 1), LZ_PREFIX_BYTES + 2);
    round_trip((const uint8_t *)"ab", 2);
    round_trip((const uint8_t *)"aaa", 3);
    round_trip((const uint8_t *)"aaaa", 4);
}

static void runs_shrink_to_a_few_bytes(void)
{
    static uint8_t zeros[100000];
    /* One literal, then one overlapping match of 99,999 (392 extension bytes). */
    size_t size = round_trip(zeros, sizeof(zeros));
    CHECK(size < LZ_PREFIX_BYTES + 400);
    uint8_t pattern[5000];
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)"abcdefg"[i % 7];
    CHECK(round_trip(pattern, sizeof(pattern)) < LZ_PREFIX_BYTES + 60);
}

static void random_data_grows_by_little(void)
{
    for (size_t n = 1; n < 3000; n += 37) {
        uint8_t *buf = malloc(n);
        for (size_t i = 0; i < n; i++)
            buf[i] = next_byte();
        size_t size = round_trip(buf, n);
        CHECK(size <= lz_pack_bound(n));
        free(buf);
    }
}

/* Random bytes with a mix of repeats at every distance, some beyond the
 * window (160,000 bytes: the packer's chains are long in such text, ~70 us
 * a byte under the sanitizers); and the window's edge: a repeat at
 * LZ_MAX_DISTANCE (130,816, through the high byte's escape) is found, one
 * a byte further cannot be. */
static void mixed_far_and_near(void)
{
    size_t n = 160000;
    uint8_t *buf = malloc(n); /* and the window edge's 131,817 */
    for (size_t i = 0; i < n; i++) {
        uint8_t r = next_byte();
        if (i > 100000 && r < 20)
            buf[i] = buf[i - 100000];
        else if (i > 70000 && r < 40)
            buf[i] = buf[i - 70000];
        else if (i > 65536 && r < 80)
            buf[i] = buf[i - 65536];
        else if (i > 300 && r < 200)
            buf[i] = buf[i - 257 - (r & 3)];
        else
            buf[i] = (uint8_t)("hypervisor "[r % 11]);
    }
    round_trip(buf, n);

    for (size_t distance = LZ_MAX_DISTANCE; distance <= LZ_MAX_DISTANCE + 1; distance++) {
        size_t total = distance + 1000;
        for (size_t i = 0; i < distance; i++)
            buf[i] = next_byte();
        memcpy(buf + distance, buf, 1000);
        size_t size = round_trip(buf, total);
        if (distance == LZ_MAX_DISTANCE)
            CHECK(size < distance + 700); /* literals, their extensions, a few stray matches */
        else
            CHECK(size > total);
    }
    free(buf);
}

/* Short sequences at short distances, overlapping or not: the decoder's
 * fast path, sequence after sequence (checked: a fast path that moved
 * words for distances of 4 to 7 fails here). */
static void short_sequences_at_every_distance(void)
{
    size_t n = 50000, i = 0;
    uint8_t *buf = malloc(n);
    while (i < n) {
        size_t literals = next_byte() % 7, length = 3 + next_byte() % 15;
        size_t distance = 1 + next_byte() % 40;
        for (size_t k = 0; k < literals && i < n; k++)
            buf[i++] = next_byte();
        for (size_t k = 0; k < length && i < n; k++, i++)
            buf[i] = i >= distance ? buf[i - distance] : 0;
    }
    CHECK(round_trip(buf, n) < n * 3 / 4);
    free(buf);
}

/* Literal runs and match lengths at each field's edges: 6/7 (extension),
 * 7 + 254 / 7 + 255 (a second extension byte), and so on. */
static void field_limits(void)
{
    size_t lengths[] = {6, 7, 8, 261, 262, 263, 516, 517, 518};
    for (size_t a = 0; a < sizeof(lengths) / sizeof(lengths[0]); a++) {
        size_t n = lengths[a] * 3 + 20;
        uint8_t *buf = malloc(n);
        for (size_t i = 0; i < lengths[a]; i++)
            buf[i] = next_byte();                        /* literals */
        for (size_t i = lengths[a]; i < n; i++)
            buf[i] = buf[i - lengths[a]];                /* then repeats */
        round_trip(buf, n);
        free(buf);
    }
}

/* What the repeats are for: blocks copied from far back with one byte in
 * eight changed (code with a changed displacement), and two sources
 * interleaved. Each piece is a literal and a 7-byte match: 4 bytes with a
 * two-byte offset, 2 with a repeat; without the repeat the first bound
 * fails, without the second repeat the second (both checked). First, one
 * long copy with one byte changed: the rest after it is a repeat longer
 * than the parse's NICE_LENGTH, taken whole (tools/lz_parse.c). */
static void repeats_pack_copies_with_changes(void)
{
    uint8_t once[300 + 600];
    for (size_t i = 0; i < sizeof(once); i++)
        once[i] = i < 300 ? next_byte() : once[i - 300];
    once[350] ^= 0x55;
    CHECK(round_trip(once, sizeof(once)) < LZ_PREFIX_BYTES + 300 + 16);

    size_t n = 64000, from = 8000;
    uint8_t *buf = malloc(n);
    for (size_t i = 0; i < from; i++)
        buf[i] = next_byte();
    for (size_t i = from; i < 36000; i++)
        buf[i] = i % 8 == 0 ? next_byte() : buf[i - 1001];
    for (size_t i = 36000; i < n; i++) {
        size_t distance = (i / 8) % 2 ? 3001 : 7003;
        buf[i] = i % 8 == 0 ? next_byte() : buf[i - distance];
    }
    size_t whole = round_trip(buf, n);
    size_t head = round_trip(buf, 36000);
    size_t head_only_random = round_trip(buf, from);
    CHECK(head - head_only_random < (36000 - from) * 3 / 10);
    CHECK(whole - head < (n - 36000) * 3 / 10);
    free(buf);
}

/* This executable's .text as its file holds it (at most `cap` bytes of
 * it; NULL if not found): code, where the file's first bytes are mostly
 * relocations (76 KiB of 24-byte records under ASan), which the packer's
 * hash chains take ~15 s of the sanitized run to pack. */
static uint8_t *own_text(size_t cap, size_t *n)
{
    FILE *f = fopen("/proc/self/exe", "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long end = ftell(f);
    size_t size = end > 0 ? (size_t)end : 0;
    uint8_t *file = malloc(size + 1), *text = NULL;
    rewind(f);
    size = fread(file, 1, size, f);
    fclose(f);
    Elf64_Ehdr eh = {0};
    if (size >= sizeof(eh))
        memcpy(&eh, file, sizeof(eh));
    if (eh.e_shentsize == sizeof(Elf64_Shdr) && eh.e_shstrndx < eh.e_shnum && eh.e_shoff <= size &&
        eh.e_shnum <= (size - eh.e_shoff) / sizeof(Elf64_Shdr)) {
        Elf64_Shdr sh[eh.e_shnum];
        memcpy(sh, file + eh.e_shoff, sizeof(sh));
        uint64_t names = sh[eh.e_shstrndx].sh_offset;
        for (unsigned i = 0; i < eh.e_shnum && !text; i++) {
            if (names > size || sh[i].sh_name + sizeof(".text") > size - names ||
                memcmp(file + names + sh[i].sh_name, ".text", sizeof(".text")) != 0 ||
                sh[i].sh_offset > size || sh[i].sh_size > size - sh[i].sh_offset)
                continue;
            *n = sh[i].sh_size < cap ? sh[i].sh_size : cap;
            text = malloc(*n);
            memcpy(text, file + sh[i].sh_offset, *n);
        }
    }
    free(file);
    return text;
}

/* Real x86-64 code (this test's own, ~50 KiB), the kind of input the core
 * is: round trip, and packed to under three quarters. The build's lzpack
 * checks the core itself the same way before it writes hv-core.lz. */
static void real_code_round_trips(void)
{
    size_t n = 0;
    uint8_t *buf = own_text(1 << 17, &n);
    CHECK(buf != NULL && n > 16384);
    if (!buf)
        return;
    size_t size = round_trip(buf, n);
    CHECK(size < n * 3 / 4);
    free(buf);
}

int main(void)
{
    check_suite = "lz";
    RUN_TEST(empty_and_tiny);
    RUN_TEST(runs_shrink_to_a_few_bytes);
    RUN_TEST(random_data_grows_by_little);
    RUN_TEST(mixed_far_and_near);
    RUN_TEST(short_sequences_at_every_distance);
    RUN_TEST(field_limits);
    RUN_TEST(repeats_pack_copies_with_changes);
    RUN_TEST(real_code_round_trips);
    return check_finish();
}
