/* lib/nospec.h: the clamp gives index below size and 0 otherwise, for
 * every edge (0, size - 1, size, size + 1, UINT64_MAX; sizes 0 and 1,
 * huge sizes, values with the top bit set, where a signed compare would
 * be wrong), with the inputs read through volatiles so the compiler must
 * run the instructions rather than fold a known answer, and with constant
 * sizes (the immediate and register forms the asm's operands allow, as hv
 * uses it: array_index_nospec(nr, HV_CALL_COUNT)). */
#include "check.h"
#include "lib/nospec.h"

#define TOP (1ull << 63)

/* What the clamp must give: the plain definition, branches and all. */
static uint64_t expected(uint64_t index, uint64_t size)
{
    return index < size ? index : 0;
}

/* Runtime values the compiler knows nothing about. */
static uint64_t opaque(uint64_t x)
{
    volatile uint64_t v = x;
    return v;
}

static const uint64_t interesting[] = {
    0, 1, 2, 3, 31, 32, 63, 64, 255, 256, 257, 0x7fffffffull, 0x80000000ull, 0xffffffffull,
    0x100000000ull, 0x100000001ull, TOP - 1, TOP, TOP + 1, UINT64_MAX - 1, UINT64_MAX,
};
#define N_INTERESTING (sizeof(interesting) / sizeof(interesting[0]))

static void edges_around_each_size(void)
{
    for (size_t s = 0; s < N_INTERESTING; s++) {
        uint64_t size = interesting[s];
        uint64_t idx[] = {0, size - 1, size, size + 1, UINT64_MAX, size / 2, TOP, TOP - 1};
        for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
            uint64_t got = array_index_nospec(opaque(idx[i]), opaque(size));
            if (got != expected(idx[i], size))
                printf("  index 0x%" PRIx64 " size 0x%" PRIx64 ": got 0x%" PRIx64 "\n", idx[i],
                       size, got);
            CHECK_EQ_U64(got, expected(idx[i], size));
        }
    }
}

static void every_pair_of_interesting_values(void)
{
    for (size_t a = 0; a < N_INTERESTING; a++)
        for (size_t b = 0; b < N_INTERESTING; b++) {
            uint64_t index = interesting[a], size = interesting[b];
            CHECK_EQ_U64(array_index_nospec(opaque(index), opaque(size)), expected(index, size));
            CHECK_EQ_U64(array_index_mask_nospec(opaque(index), opaque(size)),
                         index < size ? UINT64_MAX : 0);
        }
}

static void mask_is_all_ones_or_zero(void)
{
    CHECK_EQ_U64(array_index_mask_nospec(opaque(0), opaque(1)), UINT64_MAX);
    CHECK_EQ_U64(array_index_mask_nospec(opaque(1), opaque(1)), 0);
    CHECK_EQ_U64(array_index_mask_nospec(opaque(0), opaque(0)), 0);
    CHECK_EQ_U64(array_index_mask_nospec(opaque(UINT64_MAX - 1), opaque(UINT64_MAX)), UINT64_MAX);
    CHECK_EQ_U64(array_index_mask_nospec(opaque(UINT64_MAX), opaque(UINT64_MAX)), 0);
}

static void size_zero_and_one(void)
{
    /* Size 0: no index is valid, not even 0. */
    CHECK_EQ_U64(array_index_nospec(opaque(0), opaque(0)), 0);
    CHECK_EQ_U64(array_index_mask_nospec(opaque(0), opaque(0)), 0);
    CHECK_EQ_U64(array_index_nospec(opaque(5), opaque(0)), 0);
    CHECK_EQ_U64(array_index_nospec(opaque(UINT64_MAX), opaque(0)), 0);
    /* Size 1: only 0. */
    CHECK_EQ_U64(array_index_mask_nospec(opaque(0), opaque(1)), UINT64_MAX);
    CHECK_EQ_U64(array_index_nospec(opaque(1), opaque(1)), 0);
    CHECK_EQ_U64(array_index_mask_nospec(opaque(1), opaque(1)), 0);
    CHECK_EQ_U64(array_index_nospec(opaque(UINT64_MAX), opaque(1)), 0);
}

/* The comparison is unsigned: a signed one would let an index with the
 * top bit set (negative) through, or refuse a valid index below a size
 * with the top bit set. */
static void top_bit_is_unsigned(void)
{
    CHECK_EQ_U64(array_index_nospec(opaque(TOP), opaque(16)), 0);
    CHECK_EQ_U64(array_index_nospec(opaque(UINT64_MAX), opaque(16)), 0);
    CHECK_EQ_U64(array_index_nospec(opaque(TOP | 3), opaque(16)), 0);
    CHECK_EQ_U64(array_index_nospec(opaque(5), opaque(TOP)), 5);
    CHECK_EQ_U64(array_index_nospec(opaque(TOP), opaque(TOP + 1)), TOP);
    CHECK_EQ_U64(array_index_nospec(opaque(TOP + 1), opaque(TOP + 1)), 0);
    CHECK_EQ_U64(array_index_nospec(opaque(UINT64_MAX - 1), opaque(UINT64_MAX)), UINT64_MAX - 1);
}

/* Sizes the compiler knows: small ones become an immediate operand, one
 * with bit 31 set cannot (cmp sign-extends a 32-bit immediate) and goes
 * in a register, UINT64_MAX is the immediate -1. */
static void constant_sizes(void)
{
    for (size_t i = 0; i < N_INTERESTING; i++) {
        uint64_t x = interesting[i];
        CHECK_EQ_U64(array_index_nospec(opaque(x), 1), expected(x, 1));
        CHECK_EQ_U64(array_index_nospec(opaque(x), 30), expected(x, 30));
        CHECK_EQ_U64(array_index_nospec(opaque(x), 256), expected(x, 256));
        CHECK_EQ_U64(array_index_nospec(opaque(x), 0x7fffffffull), expected(x, 0x7fffffffull));
        CHECK_EQ_U64(array_index_nospec(opaque(x), 0x80000000ull), expected(x, 0x80000000ull));
        CHECK_EQ_U64(array_index_nospec(opaque(x), 0xffffffffull), expected(x, 0xffffffffull));
        CHECK_EQ_U64(array_index_nospec(opaque(x), TOP), expected(x, TOP));
        CHECK_EQ_U64(array_index_nospec(opaque(x), UINT64_MAX), expected(x, UINT64_MAX));
    }
}

/* A 32-bit index (a port, a vector) widens without sign extension. */
static void narrow_index_types(void)
{
    unsigned port = (unsigned)opaque(0xffffffffu);
    CHECK_EQ_U64(array_index_nospec(port, 256), 0);
    port = (unsigned)opaque(255);
    CHECK_EQ_U64(array_index_nospec(port, 256), 255);
    uint8_t vector = (uint8_t)opaque(200);
    CHECK_EQ_U64(array_index_nospec(vector, 32), 0);
    vector = (uint8_t)opaque(31);
    CHECK_EQ_U64(array_index_nospec(vector, 32), 31);
}

/* As hv uses it: the check, then the clamped index for the access. After
 * the check the compiler knows index < size and would drop a mask written
 * in plain C; the asm keeps it, and the result stays right. */
static uint64_t table[8] = {10, 11, 12, 13, 14, 15, 16, 17};

static uint64_t checked_load(uint64_t index)
{
    if (index >= 8)
        return UINT64_MAX;
    return table[array_index_nospec(index, 8)];
}

static void after_a_bounds_check(void)
{
    for (uint64_t i = 0; i < 8; i++)
        CHECK_EQ_U64(checked_load(opaque(i)), 10 + i);
    CHECK_EQ_U64(checked_load(opaque(8)), UINT64_MAX);
    CHECK_EQ_U64(checked_load(opaque(UINT64_MAX)), UINT64_MAX);
    CHECK_EQ_U64(checked_load(opaque(TOP)), UINT64_MAX);
}

int main(void)
{
    check_suite = "nospec";
    RUN_TEST(edges_around_each_size);
    RUN_TEST(every_pair_of_interesting_values);
    RUN_TEST(mask_is_all_ones_or_zero);
    RUN_TEST(size_zero_and_one);
    RUN_TEST(top_bit_is_unsigned);
    RUN_TEST(constant_sizes);
    RUN_TEST(narrow_index_types);
    RUN_TEST(after_a_bounds_check);
    return check_finish();
}
