/* The x86 branch filter (lib/branch_filter.h): against a model written from
 * the header's words one byte at a time, on buffers dense with E8/E9 bytes
 * at every place of the stub's 32-byte blocks and their ends; decode undoes
 * encode exactly for any input; calls to one function become one value; and
 * the packed size of code with many such calls falls. Built twice: with
 * SSE2, as the stub's filter, and with the portable mask. */
#include "lib/branch_filter.h"
#include "lib/lz.h"
#include "tools/lz_pack.h"

#include "tests/unit/check.h"
#include "tests/unit/xorshift.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t next_u32(void)
{
    return (uint32_t)xorshift64(&rng);
}

/* The header's rule, one byte at a time. */
static void model(uint8_t *code, size_t size, int sign)
{
    for (size_t i = 0; i + 5 <= size;) {
        if (code[i] != 0xE8 && code[i] != 0xE9) {
            i++;
            continue;
        }
        int64_t v = (int32_t)((uint32_t)code[i + 1] | (uint32_t)code[i + 2] << 8 |
                              (uint32_t)code[i + 3] << 16 | (uint32_t)code[i + 4] << 24);
        if (v >= -(1 << 24) && v < (1 << 24)) {
            int64_t moved = v + sign * (int64_t)(i + 5);
            /* Into [-2^24, 2^24) modulo 2^25. */
            moved = ((moved + (1 << 24)) % (1 << 25) + (1 << 25)) % (1 << 25) - (1 << 24);
            uint32_t u = (uint32_t)(int32_t)moved;
            for (int k = 0; k < 4; k++)
                code[i + 1 + k] = (uint8_t)(u >> 8 * k);
        }
        i += 5;
    }
}

/* A buffer of n bytes where about one in `density` is E8 or E9 and the
 * four after one are, by turns, small forward, small backward, at the
 * range's edges, or out of range (left as they are). */
static void fill(uint8_t *buf, size_t n, unsigned density)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)next_u32();
    for (size_t i = 0; i + 1 < n; i++) {
        if (next_u32() % density)
            continue;
        buf[i] = 0xE8 | (next_u32() & 1);
        static const uint32_t values[] = {0x00000010, 0xFFFFFF00, 0x00FFFFFF, 0xFF000000,
                                          0x01000000, 0xFEFFFFFF, 0x7FFFFFFF, 0x80000000};
        uint32_t v = next_u32() % 3 ? values[next_u32() % 8] : next_u32();
        for (size_t k = 0; k < 4 && i + 1 + k < n; k++)
            buf[i + 1 + k] = (uint8_t)(v >> 8 * k);
    }
}

static void matches_the_model_at_every_size(void)
{
    for (size_t n = 0; n < 400; n++) {
        for (unsigned density = 2; density <= 40; density *= 3) {
            uint8_t buf[400], want[400], orig[400];
            fill(buf, n, density);
            memcpy(orig, buf, n);
            memcpy(want, buf, n);
            model(want, n, 1);
            branch_filter_encode(buf, n);
            CHECK(n == 0 || memcmp(buf, want, n) == 0);
            model(want, n, -1);
            CHECK(n == 0 || memcmp(want, orig, n) == 0); /* the model's own check */
            branch_filter_decode(buf, n);
            CHECK(n == 0 || memcmp(buf, orig, n) == 0);
        }
    }
}

static void decode_undoes_encode_on_any_bytes(void)
{
    /* E8/E9 runs: each one's four bytes are more E8/E9 bytes, skipped. */
    static uint8_t all_e8[1000];
    memset(all_e8, 0xE8, sizeof(all_e8));
    uint8_t copy[1000];
    memcpy(copy, all_e8, sizeof(copy));
    branch_filter_encode(copy, sizeof(copy));
    CHECK(memcmp(copy, all_e8, sizeof(copy)) == 0); /* E8E8E8E8 is out of range */
    for (int round = 0; round < 50; round++) {
        size_t n = 5000 + next_u32() % 3000;
        uint8_t *buf = malloc(n), *orig = malloc(n);
        fill(buf, n, 1 + round % 7);
        memcpy(orig, buf, n);
        branch_filter_encode(buf, n);
        branch_filter_decode(buf, n);
        CHECK(memcmp(buf, orig, n) == 0);
        free(buf);
        free(orig);
    }
}

/* 2,000 calls (E8 and a displacement) to 16 functions from random places
 * among filler: after the filter the displacements of one function's calls
 * are one value, and the whole packs smaller. */
static void calls_to_one_function_become_one_value(void)
{
    enum { N = 64 * 1024, CALLS = 2000 };
    uint8_t *code = malloc(N), *plain = malloc(N);
    for (size_t i = 0; i < N; i++)
        code[i] = (uint8_t)(next_u32() % 7); /* no E8/E9 byte but the calls' */
    uint32_t at[CALLS], target[CALLS];
    for (size_t c = 0; c < CALLS; c++) {
        at[c] = (uint32_t)(c * (N / CALLS) + next_u32() % 16);
        target[c] = 1000 * (next_u32() % 16) + 100;
        uint32_t rel = target[c] - (at[c] + 5);
        code[at[c]] = 0xE8;
        memcpy(code + at[c] + 1, &rel, 4);
    }
    memcpy(plain, code, N);
    branch_filter_encode(code, N);
    for (size_t c = 0; c < CALLS; c++) {
        uint32_t v;
        memcpy(&v, code + at[c] + 1, 4);
        CHECK_EQ_U64(v, target[c]);
    }
    uint8_t *packed = malloc(lz_pack_bound(N));
    size_t filtered = lz_pack(code, N, packed), unfiltered = lz_pack(plain, N, packed);
    CHECK(filtered + 2000 < unfiltered);
    branch_filter_decode(code, N);
    CHECK(memcmp(code, plain, N) == 0);
    free(code);
    free(plain);
    free(packed);
}

int main(void)
{
    check_suite = "branch_filter";
    RUN_TEST(matches_the_model_at_every_size);
    RUN_TEST(decode_undoes_encode_on_any_bytes);
    RUN_TEST(calls_to_one_function_become_one_value);
    return check_finish();
}
