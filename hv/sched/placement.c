/* Affinity lists, placement and the per-CPU weight split (placement.h). */
#include "hv/sched/placement.h"

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A decimal CPU number 0..63 at *p; advances *p past it. */
static bool cpu_number(const char **p, uint32_t *out)
{
    const char *s = *p;
    uint32_t n = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9') {
        n = n * 10 + (uint32_t)(*s - '0');
        if (++digits > 2 || n >= CPU_SET_MAX)
            return false;
        s++;
    }
    if (!digits)
        return false;
    *p = s;
    *out = n;
    return true;
}

bool cpu_list_parse(const char *text, uint64_t *set)
{
    if (!text)
        return false;
    uint64_t acc = 0;
    const char *p = text;
    for (;;) {
        uint32_t lo, hi;
        p = skip_spaces(p);
        if (!cpu_number(&p, &lo))
            return false;
        hi = lo;
        p = skip_spaces(p);
        if (*p == '-') {
            p = skip_spaces(p + 1);
            if (!cpu_number(&p, &hi) || hi < lo)
                return false;
            p = skip_spaces(p);
        }
        for (uint32_t c = lo; c <= hi; c++)
            acc |= 1ull << c;
        if (*p == '\0')
            break;
        if (*p != ',')
            return false;
        p++;
    }
    *set = acc;
    return true;
}

/* Appends s to buf at *len, never past cap - 1. */
static void append(char *buf, size_t cap, size_t *len, const char *s)
{
    while (*s && *len + 1 < cap)
        buf[(*len)++] = *s++;
    buf[*len] = '\0';
}

static void append_number(char *buf, size_t cap, size_t *len, uint32_t n)
{
    char d[3] = {0};
    if (n >= 10) {
        d[0] = (char)('0' + n / 10);
        d[1] = (char)('0' + n % 10);
    } else {
        d[0] = (char)('0' + n);
    }
    append(buf, cap, len, d);
}

void cpu_list_format(uint64_t set, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return;
    size_t len = 0;
    buf[0] = '\0';
    if (!set) {
        append(buf, cap, &len, "none");
        return;
    }
    bool first = true;
    for (uint32_t c = 0; c < CPU_SET_MAX; c++) {
        if (!(set >> c & 1))
            continue;
        uint32_t end = c;
        while (end + 1 < CPU_SET_MAX && (set >> (end + 1) & 1))
            end++;
        if (!first)
            append(buf, cap, &len, ",");
        first = false;
        append_number(buf, cap, &len, c);
        if (end > c) {
            append(buf, cap, &len, "-");
            append_number(buf, cap, &len, end);
        }
        c = end;
    }
}

int sched_place(uint64_t allowed, const uint32_t *placed, uint32_t ncpus)
{
    int best = -1;
    for (uint32_t c = 0; c < ncpus && c < CPU_SET_MAX; c++)
        if ((allowed >> c & 1) && (best < 0 || placed[c] < placed[best]))
            best = (int)c;
    return best;
}

uint32_t sched_weight_on_cpu(uint32_t weight, uint32_t here, uint32_t total)
{
    if (weight == 0)
        weight = 1;
    if (weight > 65535)
        weight = 65535;
    if (total == 0 || here >= total)
        return weight;
    uint64_t w = ((uint64_t)weight * here * 2 + total) / (2 * (uint64_t)total);
    return w ? (uint32_t)w : 1;
}

int balance_pick_target(uint64_t open, uint64_t allowed, const uint32_t *load, uint32_t ncpus,
                        uint32_t my_load)
{
    int best = -1;
    for (uint32_t c = 0; c < ncpus && c < CPU_SET_MAX; c++)
        if ((open & allowed) >> c & 1 && (best < 0 || load[c] < load[best]))
            best = (int)c;
    /* load[best] + 2 <= my_load, written so that neither side can wrap. */
    return best >= 0 && my_load >= 2 && load[best] <= my_load - 2 ? best : -1;
}

int balance_pick_cpu(uint64_t idle_cpus, uint64_t allowed)
{
    uint64_t both = idle_cpus & allowed;
    return both ? __builtin_ctzll(both) : -1;
}
