#include "hv/time/timescale.h"

#include <stdbool.h>

__extension__ typedef unsigned __int128 u128;

/* Shift-and-subtract division: GCC would call libgcc's __udivti3 for a
 * 128-bit '/', and the hypervisor image does not link libgcc. Only used at
 * init time, so 128 iterations are fine. Needs 0 < d < 2^127 (callers stay
 * below 2^98), which keeps remainder << 1 from overflowing. */
static u128 div_u128(u128 n, u128 d)
{
    u128 quotient = 0, remainder = 0;

    for (int bit = 127; bit >= 0; bit--) {
        remainder = (remainder << 1) | ((n >> bit) & 1);
        if (remainder >= d) {
            remainder -= d;
            quotient |= (u128)1 << bit;
        }
    }
    return quotient;
}

uint64_t muldiv64(uint64_t a, uint64_t b, uint64_t c)
{
    if (c == 0)
        return UINT64_MAX;

    u128 product = (u128)a * b;
    uint64_t high = (uint64_t)(product >> 64);
    uint64_t low = (uint64_t)product;

    if (high == 0)
        return low / c;
    /* product >= c * 2^64 exactly when the quotient needs more than 64 bits. */
    if (high >= c)
        return UINT64_MAX;

    /* Long division of high:low by c; high < c keeps the quotient in 64 bits. */
    uint64_t remainder = high, quotient = 0;
    for (int bit = 63; bit >= 0; bit--) {
        bool carry = (remainder >> 63) != 0;
        remainder = (remainder << 1) | ((low >> bit) & 1);
        quotient <<= 1;
        if (carry || remainder >= c) {
            remainder -= c;
            quotient |= 1;
        }
    }
    return quotient;
}

void timescale_init(struct timescale *ts, uint64_t from_hz, uint64_t to_hz)
{
    if (from_hz == 0 || to_hz == 0) {
        ts->mul = 0;
        ts->shift = 0;
        return;
    }

    /* Smallest shift with to/from < 2^shift: then mul = to/from * 2^(32-shift)
     * lies in [2^31, 2^32), the largest (most precise) mul that fits. */
    int shift = 0;
    if (to_hz >= from_hz) {
        while (((u128)from_hz << shift) <= to_hz)
            shift++;                               /* ends at <= 64 */
    } else {
        while (((u128)to_hz << (1 - shift)) < from_hz)
            shift--;                               /* ends at >= -63 */
    }

    for (;;) {
        /* Both stay below 2^98: num < from * 2^32 by the choice of shift. */
        u128 num = to_hz, den = from_hz;
        if (shift <= 32)
            num <<= 32 - shift;
        else
            den <<= shift - 32;

        u128 mul = div_u128(num + den / 2, den);
        if (mul <= UINT32_MAX) {
            ts->mul = (uint32_t)mul;
            ts->shift = (int8_t)shift;
            return;
        }
        /* Rounding carried into bit 32 (ratio just below 2^shift). */
        shift++;
    }
}

uint64_t timescale_apply(const struct timescale *ts, uint64_t delta)
{
    int shift = ts->shift;

    if (shift < 0) {
        /* The right shift comes first, as in the guest-side formula. */
        if (shift <= -64)
            return 0;
        delta >>= -shift;
        shift = 0;
    }

    u128 product = (u128)delta * ts->mul;   /* < 2^96 */
    if (shift <= 32) {
        u128 result = product >> (32 - shift);
        return result > UINT64_MAX ? UINT64_MAX : (uint64_t)result;
    }

    unsigned up = (unsigned)shift - 32;     /* 1..95 */
    if (up >= 64 ? product != 0 : (product >> (64 - up)) != 0)
        return UINT64_MAX;
    return (uint64_t)(product << up);
}
