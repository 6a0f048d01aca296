/* What the hvlz tests share (tests/unit/test_lz.c, test_lz_hand.c; each
 * file one binary, built twice: lz.mk): the pseudo-random bytes of their
 * inputs. */
#pragma once

#include "lib/lz.h"
#include "tools/lz_pack.h"

#include "tests/unit/check.h"
#include "tests/unit/xorshift.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint8_t next_byte(void)
{
    return (uint8_t)xorshift64(&rng);
}
