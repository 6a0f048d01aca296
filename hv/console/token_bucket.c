#include "hv/console/token_bucket.h"

#define NS_PER_S 1000000000ULL

void token_bucket_init(struct token_bucket *b, uint64_t burst, uint64_t now_ns)
{
    b->tokens = burst;
    b->at_ns = now_ns;
}

void token_bucket_refill(struct token_bucket *b, uint64_t now_ns, uint64_t rate_per_s,
                         uint64_t burst)
{
    if (now_ns <= b->at_ns || rate_per_s == 0)
        return;
    uint64_t elapsed = now_ns - b->at_ns;
    /* Past the time that fills the bucket from empty, it is full: this also
     * keeps elapsed * rate below 2^64 (burst and rate are small). */
    uint64_t fill_ns = burst * NS_PER_S / rate_per_s + 1;
    if (elapsed >= fill_ns || b->tokens >= burst) {
        b->tokens = burst;
        b->at_ns = now_ns;
        return;
    }
    uint64_t earned = elapsed * rate_per_s / NS_PER_S;
    if (!earned)
        return; /* keep at_ns: the fraction is earned on a later call */
    /* Move the stamp by exactly the time those tokens took, so the
     * remainder of a token is not thrown away. */
    b->at_ns += earned * NS_PER_S / rate_per_s;
    b->tokens = b->tokens + earned > burst ? burst : b->tokens + earned;
}
