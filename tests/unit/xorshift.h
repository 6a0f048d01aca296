/* The unit tests' pseudo-random inputs: Marsaglia's xorshift64 (13, 7,
 * 17), one state per test file, so each file's inputs repeat run to run. */
#pragma once

#include <stdint.h>

static inline uint64_t xorshift64(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}
