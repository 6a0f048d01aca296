/* Fixed-point frequency conversion in the form of Xen's vcpu_time_info
 * (tsc_to_system_mul / tsc_shift), so a guest given the same two numbers
 * computes the same result:
 *
 *     scaled(delta) = ((shift >= 0 ? delta << shift : delta >> -shift) * mul) >> 32
 *
 * i.e. to_hz / from_hz == mul * 2^shift / 2^32. timescale_apply evaluates it
 * without intermediate overflow and saturates at UINT64_MAX; a guest doing
 * the 64-bit shift like Xen's pvclock code agrees whenever delta << shift
 * still fits 64 bits. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct timescale {
    uint32_t mul;
    int8_t shift;
};

/* Picks the smallest shift whose mul (rounded to nearest) fits 32 bits, so
 * mul >= 2^31 and the relative error of the ratio is below 2^-31. Any
 * from_hz, to_hz > 0 work (shift stays within -63..65); a zero frequency
 * yields mul = 0, shift = 0, which scales everything to 0. */
void timescale_init(struct timescale *ts, uint64_t from_hz, uint64_t to_hz);

/* Scales delta by the formula above; UINT64_MAX if the result does not fit. */
uint64_t timescale_apply(const struct timescale *ts, uint64_t delta);

/* floor(a * b / c) with a 128-bit intermediate; UINT64_MAX if the quotient
 * does not fit 64 bits or c == 0. */
uint64_t muldiv64(uint64_t a, uint64_t b, uint64_t c);

/* timescale_apply in one multiply, for the clock hv reads several times a
 * switch: the shift folded into the multiplier, mul << shift for shift
 * 1..31, the right shift kept for shift -63..0 (it comes first, as in the
 * guest-side formula). Exactly timescale_apply's result for every ts with
 * shift -63..31 (a TSC of 0.5 Hz and more to nanoseconds) whenever that
 * result fits 64 bits: always for shift <= 0 (it is at most delta); for a
 * TSC below 1 GHz (shift 1..31) the result is the time since boot in ns,
 * 2^64 of which is 584 years, and no guest can write the TSC. No
 * saturation test, then: it cost hv.efi a 512-byte step. QEMU's TCG
 * calibrates its 1 GHz TSC at 999.9988 MHz, shift 1, which the
 * shift-only version this replaced (shift 0 and below) sent to
 * timescale_apply's general path at three times the cost (27
 * instructions a reading, 8 now). */
struct timescale_premul {
    uint64_t mul;   /* ts->mul << max(shift, 0): below 2^63 */
    uint8_t right;  /* max(-shift, 0) */
};

/* False (p unchanged) when ts's shift is outside -63..31. */
static inline bool timescale_premul_init(struct timescale_premul *p, const struct timescale *ts)
{
    if (ts->shift < -63 || ts->shift > 31)
        return false;
    p->right = (uint8_t)(ts->shift < 0 ? -ts->shift : 0);
    p->mul = (uint64_t)ts->mul << (ts->shift > 0 ? ts->shift : 0);
    return true;
}

static inline uint64_t timescale_apply_premul(const struct timescale_premul *p, uint64_t delta)
{
    unsigned __int128 product = (unsigned __int128)(delta >> p->right) * p->mul;
    return (uint64_t)(product >> 32);
}

/* delta scaled and rounded up to a whole unit, without the pre-shift of
 * the guest-side formula: ceil(delta * mul / 2^(32 - shift)), exactly, for
 * shift <= 32 (every conversion of nanoseconds to a timer's ticks: no
 * timer counts 2^32 times a nanosecond); UINT64_MAX if it does not fit or
 * the shift is larger. For timer deadlines: a count rounded up never
 * expires before the time it stands for, so the interrupt never comes
 * early only to find nothing due. Inline: hv converts a deadline on every
 * switch. */
static inline uint64_t timescale_apply_ceil(const struct timescale *ts, uint64_t delta)
{
    if (delta >> 32 == 0 && ts->shift <= 32 && ts->shift > -32) {
        /* Every deadline hv programs (under 4 s away) with every clock it
         * knows: delta * mul < 2^64, one 64-bit multiply. */
        uint64_t p = delta * ts->mul;
        unsigned bits = (unsigned)(32 - ts->shift); /* 0..63 */
        return (p >> bits) + ((p & (((uint64_t)1 << bits) - 1)) != 0);
    }
    if (ts->shift > 32)
        return UINT64_MAX;
    unsigned bits = (unsigned)(32 - ts->shift); /* 0..95 */
    unsigned __int128 p = (unsigned __int128)delta * ts->mul;
    unsigned __int128 q = (p + (((unsigned __int128)1 << bits) - 1)) >> bits;
    return q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
}

/* The unshifted product rounded down, for a short delta (< 2^32: a few
 * seconds of any clock) and shift 32..-31: one 64-bit multiply and shift
 * (delta * mul < 2^64); else the same in 128 bits, saturated. For the few instructions between two readings of a
 * clock: program() takes them off an APIC count. */
static inline uint64_t timescale_apply_short(const struct timescale *ts, uint64_t delta)
{
    if (delta >> 32 == 0 && ts->shift <= 32 && ts->shift > -32)
        return delta * ts->mul >> (32 - ts->shift);
    if (ts->shift > 32)
        return UINT64_MAX;
    unsigned __int128 q = ((unsigned __int128)delta * ts->mul) >> (32 - ts->shift);
    return q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
}
