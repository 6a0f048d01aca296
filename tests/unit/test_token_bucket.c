/* hv/console/token_bucket: starts full, earns exactly rate tokens a second
 * however often it is refilled, never holds more than the burst, survives
 * huge gaps and a clock that goes backwards. */
#include "hv/console/token_bucket.h"

#include "tests/unit/check.h"

#define S 1000000000ULL

static void starts_full(void)
{
    struct token_bucket b;
    token_bucket_init(&b, 2048, 5 * S);
    CHECK_EQ_U64(b.tokens, 2048);
    token_bucket_refill(&b, 6 * S, 11520, 2048);
    CHECK_EQ_U64(b.tokens, 2048);
}

static void earns_rate_per_second(void)
{
    struct token_bucket b;
    token_bucket_init(&b, 100000, 0);
    b.tokens = 0;
    token_bucket_refill(&b, S, 11520, 100000);
    CHECK_EQ_U64(b.tokens, 11520);
}

/* Refilled every 37 us (less than one token's 86.8 us now and then), the
 * bucket still earns exactly the rate: fractions are not thrown away. */
static void frequent_refills_lose_nothing(void)
{
    struct token_bucket b;
    token_bucket_init(&b, 1000000, 0);
    b.tokens = 0;
    uint64_t t = 0;
    while (t < 3 * S) {
        t += 37000;
        token_bucket_refill(&b, t, 11520, 1000000);
    }
    uint64_t want = t * 11520 / S;
    CHECK(b.tokens == want || b.tokens + 1 == want);
}

static void capped_at_burst(void)
{
    struct token_bucket b;
    token_bucket_init(&b, 2048, 0);
    b.tokens = 2000;
    token_bucket_refill(&b, S, 11520, 2048);
    CHECK_EQ_U64(b.tokens, 2048);
}

static void huge_gap_no_overflow(void)
{
    struct token_bucket b;
    token_bucket_init(&b, 2048, 1);
    b.tokens = 0;
    token_bucket_refill(&b, UINT64_MAX, 11520, 2048);
    CHECK_EQ_U64(b.tokens, 2048);
    CHECK_EQ_U64(b.at_ns, UINT64_MAX);
    /* Just short of filling: elapsed * rate stays exact. */
    b.tokens = 0;
    b.at_ns = 0;
    token_bucket_refill(&b, 2048 * S / 11520 - 1000, 11520, 2048);
    CHECK(b.tokens >= 2046 && b.tokens < 2048);
}

static void clock_backwards_earns_nothing(void)
{
    struct token_bucket b;
    token_bucket_init(&b, 2048, 10 * S);
    b.tokens = 5;
    token_bucket_refill(&b, 9 * S, 11520, 2048);
    CHECK_EQ_U64(b.tokens, 5);
    CHECK_EQ_U64(b.at_ns, 10 * S);
}

int main(void)
{
    check_suite = "token_bucket";
    RUN_TEST(starts_full);
    RUN_TEST(earns_rate_per_second);
    RUN_TEST(frequent_refills_lose_nothing);
    RUN_TEST(capped_at_burst);
    RUN_TEST(huge_gap_no_overflow);
    RUN_TEST(clock_backwards_earns_nothing);
    return check_finish();
}
