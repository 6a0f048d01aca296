/* vcpu/trap_table.c: validation is all-or-nothing, merging, lookup. */
#include "check.h"
#include "vcpu/trap_table.h"

static struct hv_trap_info entry(uint8_t vector, uint8_t flags, uint64_t handler)
{
    return (struct hv_trap_info){.vector = vector, .flags = flags, .handler = handler};
}

static void sets_and_looks_up_exceptions(void)
{
    struct trap_table t = {0};
    struct hv_trap_info e[] = {entry(14, HV_TRAP_MASK_EVENTS, 0x401000), entry(6, 0, 0x402000)};
    CHECK_EQ_U64(trap_table_update(&t, e, 2), 0);
    uint64_t h;
    uint8_t f;
    CHECK(trap_table_lookup(&t, 14, &h, &f));
    CHECK_EQ_U64(h, 0x401000);
    CHECK_EQ_U64(f, HV_TRAP_MASK_EVENTS);
    CHECK(trap_table_lookup(&t, 6, &h, &f));
    CHECK(!trap_table_lookup(&t, 13, &h, &f));
}

static void bad_entries_change_nothing(void)
{
    struct trap_table t = {0};
    struct hv_trap_info good = entry(3, 0, 0x401000);
    struct hv_trap_info bad[] = {
        entry(13, 0, 0xffffffff80000000ULL),        /* hv's address */
        entry(13, 0, 0x0000800000000000ULL),        /* non-canonical */
        entry(13, 0x80, 0x401000),                  /* unknown flag */
        entry(0x81, HV_TRAP_FAST, 0x401000),        /* fast on another vector */
        entry(HV_FAST_TRAP_VECTOR, HV_TRAP_FAST, 0),/* fast without a handler */
        entry(14, HV_TRAP_FAST, 0x401000),          /* fast exception */
    };
    struct hv_trap_info reserved = good;
    reserved.reserved1 = 1;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hv_trap_info pair[2] = {good, bad[i]};
        CHECK_EQ_U64(trap_table_update(&t, pair, 2), (uint64_t)-HV_EINVAL);
        uint64_t h;
        uint8_t f;
        CHECK(!trap_table_lookup(&t, 3, &h, &f)); /* the good one was not applied either */
    }
    CHECK_EQ_U64(trap_table_update(&t, &reserved, 1), (uint64_t)-HV_EINVAL);
    reserved.reserved1 = 0;
    reserved.reserved0 = 1;
    CHECK_EQ_U64(trap_table_update(&t, &reserved, 1), (uint64_t)-HV_EINVAL);
}

static void zero_handler_removes(void)
{
    struct trap_table t = {0};
    struct hv_trap_info set = entry(0x40, HV_TRAP_USER_INT, 0x401000), clear = entry(0x40, 0, 0);
    CHECK_EQ_U64(trap_table_update(&t, &set, 1), 0);
    uint64_t h;
    uint8_t f;
    CHECK(trap_table_lookup(&t, 0x40, &h, &f));
    CHECK_EQ_U64(f, HV_TRAP_USER_INT);
    CHECK_EQ_U64(trap_table_update(&t, &clear, 1), 0);
    CHECK(!trap_table_lookup(&t, 0x40, &h, &f));
    CHECK_EQ_U64(t.soft_count, 0);
}

static void soft_vectors_are_bounded(void)
{
    struct trap_table t = {0};
    for (unsigned v = 0; v < TRAP_SOFT_MAX; v++) {
        struct hv_trap_info e = entry((uint8_t)(0x40 + v), 0, 0x401000 + v);
        CHECK_EQ_U64(trap_table_update(&t, &e, 1), 0);
    }
    struct hv_trap_info one_more = entry(0x90, 0, 0x401000);
    CHECK_EQ_U64(trap_table_update(&t, &one_more, 1), (uint64_t)-HV_ENOMEM);
    struct hv_trap_info replace = entry(0x40, 0, 0x409000); /* same vector: fits */
    CHECK_EQ_U64(trap_table_update(&t, &replace, 1), 0);
    uint64_t h;
    uint8_t f;
    CHECK(trap_table_lookup(&t, 0x40, &h, &f));
    CHECK_EQ_U64(h, 0x409000);
}

static void fast_gate_set_and_cleared(void)
{
    struct trap_table t = {0};
    struct hv_trap_info fast = entry(HV_FAST_TRAP_VECTOR, HV_TRAP_FAST, 0x405000);
    CHECK_EQ_U64(trap_table_update(&t, &fast, 1), 0);
    CHECK_EQ_U64(t.fast_handler, 0x405000);
    struct hv_trap_info plain = entry(HV_FAST_TRAP_VECTOR, 0, 0x406000);
    CHECK_EQ_U64(trap_table_update(&t, &plain, 1), 0);
    CHECK_EQ_U64(t.fast_handler, 0);
    uint64_t h;
    uint8_t f;
    CHECK(trap_table_lookup(&t, HV_FAST_TRAP_VECTOR, &h, &f));
    CHECK_EQ_U64(h, 0x406000);
}

/* Removing a soft vector moves the last one into its place: every vector
 * left is still found, the removed one is not, and its place can be taken
 * again (the slot map must follow each move). */
static void removal_keeps_the_others(void)
{
    struct trap_table t = {0};
    for (unsigned v = 0; v < TRAP_SOFT_MAX; v++) {
        struct hv_trap_info e = entry((uint8_t)(0x40 + v), 0, 0x401000 + v);
        CHECK_EQ_U64(trap_table_update(&t, &e, 1), 0);
    }
    struct hv_trap_info gone[] = {entry(0x43, 0, 0), entry(0x40, 0, 0), entry(0x4f, 0, 0)};
    CHECK_EQ_U64(trap_table_update(&t, gone, 3), 0);
    CHECK_EQ_U64(t.soft_count, TRAP_SOFT_MAX - 3);
    uint64_t h;
    uint8_t f;
    for (unsigned v = 0; v < TRAP_SOFT_MAX; v++) {
        bool removed = v == 0x3 || v == 0x0 || v == 0xf;
        CHECK(trap_table_lookup(&t, 0x40 + v, &h, &f) == !removed);
        if (!removed)
            CHECK_EQ_U64(h, 0x401000 + v);
    }
    /* Three places free again; a fourth new vector does not fit. */
    struct hv_trap_info more[] = {entry(0x90, 0, 0x501000), entry(0x91, 0, 0x502000),
                                  entry(0x43, 0, 0x503000)};
    CHECK_EQ_U64(trap_table_update(&t, more, 3), 0);
    struct hv_trap_info fourth = entry(0x92, 0, 0x504000);
    CHECK_EQ_U64(trap_table_update(&t, &fourth, 1), (uint64_t)-HV_ENOMEM);
    CHECK(trap_table_lookup(&t, 0x43, &h, &f));
    CHECK_EQ_U64(h, 0x503000);
    CHECK(!trap_table_lookup(&t, 0x92, &h, &f));
    /* 256 removals of vectors that are not there change nothing. */
    struct hv_trap_info none[256];
    for (unsigned i = 0; i < 256; i++)
        none[i] = entry((uint8_t)(0xa0 + (i % 64)), 0, 0);
    CHECK_EQ_U64(trap_table_update(&t, none, 256), 0);
    CHECK_EQ_U64(t.soft_count, TRAP_SOFT_MAX);
}

/* Each vector check is followed by a clamp (lib/nospec.h) that maps an
 * out-of-range vector to 0: with vector 0 set, every vector past the ends
 * (32 for exceptions, 256 for int n) is still not found, and the first
 * soft vector (32) is its own. */
static void vectors_past_the_ends_are_not_vector_zero(void)
{
    struct trap_table t = {0};
    struct hv_trap_info e[] = {entry(0, 0, 0x401000), entry(31, 0, 0x402000),
                               entry(32, 0, 0x403000), entry(255, 0, 0x404000)};
    CHECK_EQ_U64(trap_table_update(&t, e, 4), 0);
    uint64_t h;
    uint8_t f;
    CHECK(trap_table_lookup(&t, 31, &h, &f));
    CHECK_EQ_U64(h, 0x402000);
    CHECK(trap_table_lookup(&t, 32, &h, &f));
    CHECK_EQ_U64(h, 0x403000);
    CHECK(trap_table_lookup(&t, 255, &h, &f));
    CHECK_EQ_U64(h, 0x404000);
    static const unsigned far[] = {256, 257, 256 + 32, 0x80000000u, UINT32_MAX};
    for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++)
        CHECK(!trap_table_lookup(&t, far[i], &h, &f));
    CHECK(!trap_table_lookup(&t, 33, &h, &f));
}

/* trap_table_exception (the delivery's inline read) agrees with
 * trap_table_lookup for every exception vector, set or removed, and a
 * removed entry leaves no flags behind. */
static void exception_read_agrees_with_lookup(void)
{
    struct trap_table t = {0};
    struct hv_trap_info e[TRAP_EXCEPTIONS];
    for (unsigned v = 0; v < TRAP_EXCEPTIONS; v++)
        e[v] = entry((uint8_t)v, v % 3 ? HV_TRAP_MASK_EVENTS : 0, v % 2 ? 0x401000 + v * 16 : 0);
    CHECK_EQ_U64(trap_table_update(&t, e, TRAP_EXCEPTIONS), 0);
    struct hv_trap_info removed = entry(7, 0, 0);
    CHECK_EQ_U64(trap_table_update(&t, &removed, 1), 0);
    for (unsigned v = 0; v < TRAP_EXCEPTIONS; v++) {
        uint64_t h1 = 1, h2 = 2;
        uint8_t f1 = 3, f2 = 4;
        bool a = trap_table_lookup(&t, v, &h1, &f1);
        bool b = trap_table_exception(&t, v, &h2, &f2);
        CHECK(a == b);
        CHECK(b == (v % 2 && v != 7));
        if (a && b) {
            CHECK_EQ_U64(h1, h2);
            CHECK_EQ_U64(f1, f2);
            CHECK_EQ_U64(h2, 0x401000 + v * 16);
        }
    }
}

int main(void)
{
    check_suite = "trap_table";
    RUN_TEST(sets_and_looks_up_exceptions);
    RUN_TEST(bad_entries_change_nothing);
    RUN_TEST(zero_handler_removes);
    RUN_TEST(soft_vectors_are_bounded);
    RUN_TEST(fast_gate_set_and_cleared);
    RUN_TEST(removal_keeps_the_others);
    RUN_TEST(vectors_past_the_ends_are_not_vector_zero);
    RUN_TEST(exception_read_agrees_with_lookup);
    return check_finish();
}
