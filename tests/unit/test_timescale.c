/* hv/time/timescale: host 128-bit arithmetic is the oracle. */
#include "hv/time/timescale.h"

#include <stdint.h>

#include "tests/unit/check.h"

typedef unsigned __int128 u128;

#define GHZ 1000000000ull
#define MHZ 1000000ull

/* The documented formula, done the slow obvious way: one doubling at a
 * time, saturating as soon as the value leaves 64 bits. */
static uint64_t formula(const struct timescale *ts, uint64_t delta)
{
    int shift = ts->shift;
    if (shift <= -64)
        return 0;
    if (shift < 0)
        return (uint64_t)(((u128)(delta >> -shift) * ts->mul) >> 32);

    u128 value = (u128)delta * ts->mul;
    for (int i = 0; i < shift; i++) {
        if (value >> 96)
            return UINT64_MAX;
        value <<= 1;
    }
    value >>= 32;
    return value > UINT64_MAX ? UINT64_MAX : (uint64_t)value;
}

static uint64_t exact_scale(uint64_t delta, uint64_t from_hz, uint64_t to_hz)
{
    u128 q = (u128)delta * to_hz / from_hz;
    return q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
}

/* |got - want| <= want * 1e-8 + slack, in integers. */
static int close_enough(uint64_t got, uint64_t want, uint64_t slack)
{
    uint64_t diff = got > want ? got - want : want - got;
    return diff <= slack || (u128)(diff - slack) * 100000000u <= want;
}

static void check_conversion(int line, uint64_t from_hz, uint64_t to_hz, uint64_t delta)
{
    struct timescale ts;
    timescale_init(&ts, from_hz, to_hz);
    uint64_t got = timescale_apply(&ts, delta);
    uint64_t want = exact_scale(delta, from_hz, to_hz);

    /* Up to one output unit from the final floor, and for a negative shift
     * one more from the input bits it drops (each worth < 1 output unit). */
    if (!close_enough(got, want, 2)) {
        printf("  line %d: %llu Hz -> %llu Hz, delta %llu: got %llu want %llu "
               "(mul %#x shift %d)\n", line, (unsigned long long)from_hz,
               (unsigned long long)to_hz, (unsigned long long)delta,
               (unsigned long long)got, (unsigned long long)want, ts.mul, ts.shift);
        check_case_failed = 1;
    }
}

static void muldiv64_basics(void)
{
    CHECK_EQ_U64(muldiv64(0, 0, 1), 0);
    CHECK_EQ_U64(muldiv64(6, 7, 2), 21);
    CHECK_EQ_U64(muldiv64(10, 1, 3), 3);     /* floors */
    CHECK_EQ_U64(muldiv64(1, 1, 2), 0);
    CHECK_EQ_U64(muldiv64(UINT64_MAX, UINT64_MAX, UINT64_MAX), UINT64_MAX);
    CHECK_EQ_U64(muldiv64(UINT64_MAX, 3, 4), (uint64_t)((u128)UINT64_MAX * 3 / 4));
    CHECK_EQ_U64(muldiv64(1ull << 63, 2, 2), 1ull << 63);
    CHECK_EQ_U64(muldiv64(1ull << 40, 1ull << 40, 1ull << 30), 1ull << 50);
    /* Largest product whose quotient still fits, then one past it. */
    CHECK_EQ_U64(muldiv64(UINT64_MAX, 7, 7), UINT64_MAX);
    CHECK_EQ_U64(muldiv64(1ull << 32, 1ull << 32, 1), UINT64_MAX);
    CHECK_EQ_U64(muldiv64(1ull << 32, (1ull << 32) - 1, 1), ((1ull << 32) - 1) << 32);
    CHECK_EQ_U64(muldiv64(1ull << 63, 4, 2), UINT64_MAX);
    CHECK_EQ_U64(muldiv64(UINT64_MAX, 2, 1), UINT64_MAX);
    CHECK_EQ_U64(muldiv64(5, 5, 0), UINT64_MAX);
    CHECK_EQ_U64(muldiv64(0, 5, 0), UINT64_MAX);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void muldiv64_matches_128bit_division(void)
{
    for (int i = 0; i < 200000; i++) {
        /* Vary magnitudes so all paths (fits, long division, saturation) run. */
        uint64_t a = next_random() >> (next_random() % 64);
        uint64_t b = next_random() >> (next_random() % 64);
        uint64_t c = next_random() >> (next_random() % 64);
        if (c == 0)
            c = 1;
        u128 q = (u128)a * b / c;
        uint64_t want = q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
        uint64_t got = muldiv64(a, b, c);
        if (got != want) {
            printf("  muldiv64(%#llx, %#llx, %#llx) = %#llx, want %#llx\n",
                   (unsigned long long)a, (unsigned long long)b, (unsigned long long)c,
                   (unsigned long long)got, (unsigned long long)want);
            check_case_failed = 1;
            return;
        }
    }
}

static void init_picks_known_values(void)
{
    struct timescale ts;

    /* Equal rates: 2^31 * 2^1 / 2^32 == 1. */
    timescale_init(&ts, 1234567, 1234567);
    CHECK_EQ_U64(ts.mul, 0x80000000u);
    CHECK_EQ_U64(ts.shift, 1);

    /* 2 GHz -> 1 GHz: ratio 1/2 needs no shift. */
    timescale_init(&ts, 2 * GHZ, GHZ);
    CHECK_EQ_U64(ts.mul, 0x80000000u);
    CHECK_EQ_U64(ts.shift, 0);

    /* 1/3: 2^-1 > 1/3 >= 2^-2, mul = round(2^33 / 3). */
    timescale_init(&ts, 3, 1);
    CHECK_EQ_U64(ts.mul, 2863311531u);
    CHECK(ts.shift == -1);

    /* 1 GHz -> 4 GHz: 4 < 2^3. */
    timescale_init(&ts, GHZ, 4 * GHZ);
    CHECK_EQ_U64(ts.mul, 0x80000000u);
    CHECK_EQ_U64(ts.shift, 3);

    /* Ratio 2 - 2^-32 rounds up to 2^32 with shift 1; must move to shift 2. */
    timescale_init(&ts, 1ull << 32, (1ull << 33) - 1);
    CHECK_EQ_U64(ts.mul, 0x80000000u);
    CHECK_EQ_U64(ts.shift, 2);
}

static void init_maximises_precision(void)
{
    static const uint64_t rates[] = {
        1, 2, 3, 1000, 32768, 1193182, 3579545, 14318180, 25 * MHZ, 100 * MHZ,
        GHZ - 1, GHZ, GHZ + 1, 2399987654ull, 5 * GHZ, 16 * GHZ, 100 * GHZ,
        1ull << 32, (1ull << 32) - 1, 1ull << 63, UINT64_MAX,
    };
    const size_t n = sizeof(rates) / sizeof(rates[0]);

    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            struct timescale ts;
            timescale_init(&ts, rates[i], rates[j]);
            CHECK(ts.mul >= 0x80000000u);
            CHECK(ts.shift >= -63 && ts.shift <= 65);
            /* mul is to/from * 2^(32 - shift) rounded to nearest:
             * |mul * from - to * 2^(32 - shift)| <= from / 2. */
            u128 to = rates[j], from = rates[i], lhs, rhs, unit;
            if (ts.shift <= 32) {
                lhs = (u128)ts.mul * from;
                rhs = to << (32 - ts.shift);
                unit = from;
            } else {
                unit = from << (ts.shift - 32);
                lhs = (u128)ts.mul * unit;
                rhs = to;
            }
            u128 error = lhs > rhs ? lhs - rhs : rhs - lhs;
            CHECK(2 * error <= unit);
            /* The ratio stays below 2^shift, so mul never overflows. */
            CHECK(ts.shift >= 0 ? to < from << ts.shift : to << -ts.shift < from);
        }
}

static void relative_error_across_frequencies(void)
{
    static const uint64_t deltas[] = {
        1ull << 20, 1000003, 123456789012ull, 1ull << 40, 987654321098765ull,
        1ull << 50, 3ull << 55,
    };
    int conversions = 0;

    /* Geometric sweep 1 MHz .. 10 GHz with odd factors, both directions. */
    for (uint64_t hz = MHZ; hz <= 10 * GHZ; hz = hz * 1093 / 1000 + 7) {
        for (size_t d = 0; d < sizeof(deltas) / sizeof(deltas[0]); d++) {
            check_conversion(__LINE__, hz, GHZ, deltas[d]);
            check_conversion(__LINE__, GHZ, hz, deltas[d]);
            conversions += 2;
        }
    }
    CHECK(conversions > 1000);

    /* Common hardware clocks to ns and back. */
    static const uint64_t clocks[] = { 1193182, 3579545, 14318180, 19200000, 24 * MHZ,
                                       25 * MHZ, 100 * MHZ, 2200 * MHZ, 2899999999ull };
    for (size_t c = 0; c < sizeof(clocks) / sizeof(clocks[0]); c++)
        for (size_t d = 0; d < sizeof(deltas) / sizeof(deltas[0]); d++) {
            check_conversion(__LINE__, clocks[c], GHZ, deltas[d]);
            check_conversion(__LINE__, GHZ, clocks[c], deltas[d]);
        }
}

static void small_deltas_are_within_one_unit(void)
{
    static const uint64_t rates[] = { MHZ, 3579545, 2 * GHZ, 3 * GHZ + 7, 5 * GHZ, 16 * GHZ };

    for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++)
        for (uint64_t delta = 0; delta < 5000; delta++) {
            check_conversion(__LINE__, rates[r], GHZ, delta);
            check_conversion(__LINE__, GHZ, rates[r], delta);
        }
}

static void zero_delta_is_zero(void)
{
    static const uint64_t rates[] = { 1, MHZ, GHZ, 5 * GHZ, 100 * GHZ, UINT64_MAX };
    for (size_t i = 0; i < 6; i++)
        for (size_t j = 0; j < 6; j++) {
            struct timescale ts;
            timescale_init(&ts, rates[i], rates[j]);
            CHECK_EQ_U64(timescale_apply(&ts, 0), 0);
        }
}

static void huge_deltas_do_not_wrap(void)
{
    const uint64_t tsc_hz = 5 * GHZ;
    const uint64_t ten_hours = 10ull * 3600 * tsc_hz;
    struct timescale to_ns, to_tsc;

    timescale_init(&to_ns, tsc_hz, GHZ);
    timescale_init(&to_tsc, GHZ, tsc_hz);

    check_conversion(__LINE__, tsc_hz, GHZ, ten_hours);
    check_conversion(__LINE__, tsc_hz, GHZ, 1000 * ten_hours);
    check_conversion(__LINE__, tsc_hz, GHZ, UINT64_MAX);
    check_conversion(__LINE__, GHZ, tsc_hz, 10ull * 3600 * GHZ);
    /* delta << shift overflows 64 bits here, the scaled result does not. */
    CHECK(to_tsc.shift > 0);
    uint64_t ns = (1ull << 61) + 12345;
    CHECK((ns << to_tsc.shift) >> to_tsc.shift != ns);
    check_conversion(__LINE__, GHZ, tsc_hz, ns);
    CHECK(timescale_apply(&to_tsc, ns) > ns);
    /* Results beyond 64 bits saturate instead of wrapping. */
    CHECK_EQ_U64(timescale_apply(&to_tsc, UINT64_MAX), UINT64_MAX);
    CHECK_EQ_U64(timescale_apply(&to_tsc, UINT64_MAX / 4), UINT64_MAX);
    CHECK(timescale_apply(&to_tsc, UINT64_MAX / 6) < UINT64_MAX);
    /* Monotonic across the range. */
    uint64_t prev = 0;
    for (int bit = 0; bit < 64; bit++) {
        uint64_t now = timescale_apply(&to_ns, 1ull << bit);
        CHECK(now >= prev);
        prev = now;
    }
}

static void extreme_ratios(void)
{
    /* 1 Hz up to 16 GHz and 100 GHz down to 1 Hz, per the supported range. */
    check_conversion(__LINE__, 1, 16 * GHZ, 1);
    check_conversion(__LINE__, 1, 16 * GHZ, 3600);
    check_conversion(__LINE__, 1, 16 * GHZ, 1ull << 30);
    check_conversion(__LINE__, 1, 16 * GHZ, 1ull << 40);   /* saturates */
    check_conversion(__LINE__, 100 * GHZ, 1, 100 * GHZ * 3600);
    check_conversion(__LINE__, 100 * GHZ, 1, UINT64_MAX);
    check_conversion(__LINE__, 100 * GHZ, 16 * GHZ, 1ull << 45);
    check_conversion(__LINE__, 16 * GHZ, 100 * GHZ, 1ull << 45);
    check_conversion(__LINE__, 1, UINT64_MAX, 1);
    check_conversion(__LINE__, UINT64_MAX, 1, UINT64_MAX);
    check_conversion(__LINE__, UINT64_MAX, 1, UINT64_MAX - 1);

    struct timescale ts;
    timescale_init(&ts, 1, 16 * GHZ);
    CHECK_EQ_U64(timescale_apply(&ts, 1), 16 * GHZ);
    timescale_init(&ts, 1, GHZ);
    CHECK_EQ_U64(timescale_apply(&ts, 7), 7 * GHZ);
}

static void zero_frequency_scales_to_zero(void)
{
    struct timescale ts = { .mul = 123, .shift = 5 };
    timescale_init(&ts, 0, GHZ);
    CHECK_EQ_U64(ts.mul, 0);
    CHECK_EQ_U64(timescale_apply(&ts, UINT64_MAX), 0);
    ts.mul = 123;
    timescale_init(&ts, GHZ, 0);
    CHECK_EQ_U64(ts.mul, 0);
    CHECK_EQ_U64(timescale_apply(&ts, 12345), 0);
}

static void apply_matches_formula_for_any_fields(void)
{
    /* Hand-made or guest-supplied fields: every shift an int8_t can hold. */
    static const uint64_t deltas[] = { 0, 1, 2, 3, 0xffff, 1ull << 32, 0x123456789abcull,
                                       1ull << 63, UINT64_MAX };
    static const uint32_t muls[] = { 0, 1, 0x80000000u, 0xdeadbeefu, UINT32_MAX };

    for (int shift = -128; shift <= 127; shift++)
        for (size_t m = 0; m < sizeof(muls) / sizeof(muls[0]); m++)
            for (size_t d = 0; d < sizeof(deltas) / sizeof(deltas[0]); d++) {
                struct timescale ts = { .mul = muls[m], .shift = (int8_t)shift };
                uint64_t want64 = formula(&ts, deltas[d]);
                uint64_t got = timescale_apply(&ts, deltas[d]);
                if (got != want64) {
                    printf("  mul %#x shift %d delta %#llx: got %#llx want %#llx\n",
                           muls[m], shift, (unsigned long long)deltas[d],
                           (unsigned long long)got, (unsigned long long)want64);
                    check_case_failed = 1;
                    return;
                }
            }
}

static void apply_premul_matches_apply(void)
{
    /* The clock's fast path (hv/time/clock.c): every shift it is used for,
     * random fields and deltas whose result fits 64 bits (the clock's: ns
     * since boot), and the frequencies of real TSCs and of QEMU's. */
    for (int shift = -63; shift <= 31; shift++)
        for (int i = 0; i < 2000; i++) {
            struct timescale ts = { .mul = (uint32_t)next_random(), .shift = (int8_t)shift };
            uint64_t delta = next_random() >> (next_random() % 64);
            if (i == 0)
                delta = UINT64_MAX;
            struct timescale_premul p;
            CHECK(timescale_premul_init(&p, &ts));
            uint64_t want = timescale_apply(&ts, delta);
            if (want == UINT64_MAX) /* does not fit: not the clock's case */
                continue;
            uint64_t got = timescale_apply_premul(&p, delta);
            if (got != want) {
                printf("  mul %#x shift %d delta %#llx: got %#llx want %#llx\n", ts.mul, shift,
                       (unsigned long long)delta, (unsigned long long)got,
                       (unsigned long long)want);
                check_case_failed = 1;
                return;
            }
        }
    /* QEMU's TCG TSC as hv calibrates it under -icount (999.9988 MHz: shift
     * 1, which the earlier shift-only fast path did not take), a slow TSC,
     * and real CPUs' above 1 GHz. */
    static const uint64_t tsc_hz[] = { 999998800ull, 500 * MHZ, GHZ + 1, GHZ + 40800,
                                       2400 * MHZ, 3999999999ull, 5 * GHZ };
    for (size_t f = 0; f < sizeof(tsc_hz) / sizeof(tsc_hz[0]); f++) {
        struct timescale ts;
        struct timescale_premul p;
        timescale_init(&ts, tsc_hz[f], GHZ);
        CHECK(timescale_premul_init(&p, &ts));
        for (int i = 0; i < 1000; i++) {
            uint64_t delta = next_random() >> 2; /* up to 2^62 ticks: 146 years at 1 GHz */
            CHECK_EQ_U64(timescale_apply_premul(&p, delta), timescale_apply(&ts, delta));
        }
    }
    struct timescale_premul p = { 7, 3 };
    struct timescale up = { .mul = 0x80000000u, .shift = 32 }, far = { .mul = 1, .shift = -64 };
    CHECK(!timescale_premul_init(&p, &up));
    CHECK(!timescale_premul_init(&p, &far));
    CHECK(p.mul == 7 && p.right == 3);
}

/* The deadline conversion: exactly the ceiling of the unshifted product,
 * for the conversions hv makes (nanoseconds to TSC and APIC ticks) and for
 * any fields with shift <= 32; never below the exact ratio's value by more
 * than the ratio's own rounding, so a count from it is never short. */
static void apply_ceil_is_exact_ceiling(void)
{
    unsigned seed = 99;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245u + 12345u;
        struct timescale ts = {.mul = (uint32_t)(seed ^ (seed << 13)) | 0x80000000u,
                               .shift = (int8_t)(-63 + (int)((seed >> 9) % 96))};
        seed = seed * 1103515245u + 12345u;
        uint64_t delta = ((uint64_t)seed << 32 | (seed * 2654435761u)) >> ((seed >> 3) % 64);
        uint64_t got = timescale_apply_ceil(&ts, delta);
        uint64_t want;
        if (ts.shift > 32) {
            want = UINT64_MAX;
        } else {
            unsigned bits = (unsigned)(32 - ts.shift);
            u128 p = (u128)delta * ts.mul;
            u128 q = p >> bits;
            if (bits < 128 && (q << bits) != p)
                q++;
            want = q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
        }
        CHECK_EQ_U64(got, want);
        if (check_case_failed) {
            printf("  mul %#x shift %d delta %llu\n", ts.mul, ts.shift, (unsigned long long)delta);
            return;
        }
    }
    /* hv's own: ns to a 1 GHz, 2.5 GHz and 25 MHz timer. */
    static const uint64_t hz[] = {GHZ, 2500 * MHZ, 25 * MHZ, 1000053600ull};
    for (unsigned k = 0; k < sizeof(hz) / sizeof(hz[0]); k++) {
        struct timescale ts;
        timescale_init(&ts, GHZ, hz[k]);
        for (uint64_t d = 0; d < 5000000000ull; d = d * 3 + 1) {
            uint64_t got = timescale_apply_ceil(&ts, d);
            CHECK(got >= timescale_apply(&ts, d));
            /* The exact ticks, less the ratio's rounding (< 2^-31 of it). */
            u128 exact = (u128)d * hz[k];
            CHECK((u128)got * GHZ + (u128)d * hz[k] / (1u << 30) + GHZ >= exact);
            CHECK((u128)got * GHZ <= exact + (u128)d * hz[k] / (1u << 30) + GHZ);
        }
    }
}

/* The short conversion program() takes off an APIC count: exactly the
 * floor for short deltas, never more than the ceiling (it never makes a
 * count short by more than the ceiling's own rounding). */
static void apply_short_is_floor(void)
{
    unsigned seed = 7;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245u + 12345u;
        struct timescale ts = {.mul = (uint32_t)(seed ^ (seed << 11)) | 0x80000000u,
                               .shift = (int8_t)(-63 + (int)((seed >> 9) % 96))};
        seed = seed * 1103515245u + 12345u;
        uint64_t delta = ((uint64_t)seed << 32 | (seed * 2654435761u)) >> ((seed >> 3) % 64);
        uint64_t got = timescale_apply_short(&ts, delta);
        uint64_t ceil = timescale_apply_ceil(&ts, delta);
        CHECK(got <= ceil);
        if (ts.shift <= 32) {
            u128 floor = ((u128)delta * ts.mul) >> (32 - ts.shift);
            CHECK(floor > UINT64_MAX || got == (uint64_t)floor);
        }
        if (check_case_failed) {
            printf("  mul %#x shift %d delta %llu\n", ts.mul, ts.shift, (unsigned long long)delta);
            return;
        }
    }
}

int main(void)
{
    check_suite = "timescale";
    RUN_TEST(muldiv64_basics);
    RUN_TEST(muldiv64_matches_128bit_division);
    RUN_TEST(init_picks_known_values);
    RUN_TEST(init_maximises_precision);
    RUN_TEST(relative_error_across_frequencies);
    RUN_TEST(small_deltas_are_within_one_unit);
    RUN_TEST(zero_delta_is_zero);
    RUN_TEST(huge_deltas_do_not_wrap);
    RUN_TEST(extreme_ratios);
    RUN_TEST(zero_frequency_scales_to_zero);
    RUN_TEST(apply_matches_formula_for_any_fields);
    RUN_TEST(apply_premul_matches_apply);
    RUN_TEST(apply_ceil_is_exact_ceiling);
    RUN_TEST(apply_short_is_floor);
    return check_finish();
}
