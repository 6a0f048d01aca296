#include "hv/time/wallclock.h"

#define UNSPECIFIED_TIMEZONE 2047

/* Days from 1970-01-01 to year-month-day (proleptic Gregorian), by counting
 * eras of 400 years from March, which puts the leap day last. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

bool wallclock_to_epoch(const struct handoff_time *t, uint64_t *sec, uint32_t *nsec)
{
    static const unsigned char days_in_month[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!t->valid || t->year < 1970 || t->year > 9999 || t->month < 1 || t->month > 12 ||
        t->day < 1 || t->day > days_in_month[t->month - 1] || t->hour > 23 || t->minute > 59 ||
        t->second > 59 || t->nanosecond > 999999999u)
        return false;
    int64_t s = days_from_civil(t->year, t->month, t->day) * 86400 + t->hour * 3600 +
                t->minute * 60 + t->second;
    /* UEFI: the offset of local time from UTC in minutes (local = UTC +
     * offset); unspecified means the clock keeps UTC, as PC firmware under
     * QEMU and most Linux-installed machines do. */
    if (t->utc_offset_minutes != UNSPECIFIED_TIMEZONE && t->utc_offset_minutes >= -1440 &&
        t->utc_offset_minutes <= 1440)
        s -= (int64_t)t->utc_offset_minutes * 60;
    if (s < 0)
        return false;
    *sec = (uint64_t)s;
    *nsec = t->nanosecond;
    return true;
}
