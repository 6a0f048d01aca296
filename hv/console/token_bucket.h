/* A token bucket: `rate` tokens a second, at most `burst` saved up. The
 * console uses one per guest (tokens are bytes it may still write to the
 * serial line) and one for the line itself (bytes the UART may be handed).
 * Pure: host unit tests run it. */
#pragma once

#include <stdint.h>

struct token_bucket {
    uint64_t tokens;
    uint64_t at_ns; /* the time the tokens were last brought up to date */
};

/* Full, as of now. */
void token_bucket_init(struct token_bucket *b, uint64_t burst, uint64_t now_ns);
/* Adds what was earned since the last refill. Earning is exact over time
 * (no fraction of a token is lost between frequent refills), arithmetic
 * cannot overflow whatever the gap, and a clock that went backwards earns
 * nothing. */
void token_bucket_refill(struct token_bucket *b, uint64_t now_ns, uint64_t rate_per_s,
                         uint64_t burst);
