#include "hv/sched/partition.h"

#include "hv/config/config.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define NS_PER_MS 1000000ULL
#define MAX_FRAME_MS (3600ULL * 1000)

struct loader {
    struct partition_plan *p;
    char *why;
    size_t why_len;
    bool partitioned;
};

static const char *parse_number(const char **s, uint64_t *out)
{
    while (**s == ' ' || **s == '\t')
        (*s)++;
    char word[24];
    size_t n = 0;
    while ((*s)[n] && (*s)[n] != ' ' && (*s)[n] != '\t' && n < sizeof(word) - 1) {
        word[n] = (*s)[n];
        n++;
    }
    word[n] = '\0';
    *s += n;
    if (!n || !cfg_parse_u64(word, out) || *out > MAX_FRAME_MS)
        return "window = GUEST OFFSET_MS DURATION_MS [cpu=N]";
    return NULL;
}

/* The optional `cpu=N` after the duration. */
static const char *parse_cpu(const char *rest, int *cpu)
{
    *cpu = PARTITION_EVERY_CPU;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (!*rest)
        return NULL;
    if (strncmp(rest, "cpu=", 4) != 0)
        return "window = GUEST OFFSET_MS DURATION_MS [cpu=N] (nothing else after)";
    rest += 4;
    uint64_t n;
    const char *err = parse_number(&rest, &n);
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (err || *rest || n > PARTITION_MAX_CPU)
        return "cpu=N: a CPU number 0 to 63, last on the line";
    *cpu = (int)n;
    return NULL;
}

static const char *add_window(struct loader *l, const char *value)
{
    struct partition_plan *p = l->p;
    if (p->count == PARTITION_MAX_WINDOWS)
        return "more than 32 windows";
    struct partition_window *w = &p->w[p->count];
    size_t n = 0;
    while (value[n] && value[n] != ' ' && value[n] != '\t') {
        if (n == PARTITION_NAME_MAX)
            return "the guest name is longer than 31 characters";
        w->guest[n] = value[n];
        n++;
    }
    w->guest[n] = '\0';
    const char *rest = value + n;
    uint64_t offset, duration;
    const char *err = parse_number(&rest, &offset);
    if (!err)
        err = parse_number(&rest, &duration);
    if (err || !n)
        return "window = GUEST OFFSET_MS DURATION_MS [cpu=N]";
    err = parse_cpu(rest, &w->cpu);
    if (err)
        return err;
    if (!duration)
        return "a window must last at least 1 ms";
    w->offset_ns = offset * NS_PER_MS;
    w->duration_ns = duration * NS_PER_MS;
    p->count++;
    return NULL;
}

static const char *apply(void *arg, const char *section, const char *section_arg, const char *key,
                         const char *value)
{
    struct loader *l = arg;
    if (strcmp(section, "schedule") != 0 || section_arg[0])
        return NULL;
    if (strcmp(key, "mode") == 0) {
        if (strcmp(value, "partitioned") == 0)
            l->partitioned = true;
        else if (strcmp(value, "round-robin") == 0)
            l->partitioned = false;
        else
            return "mode must be round-robin or partitioned";
        return NULL;
    }
    if (strcmp(key, "major_frame_ms") == 0) {
        uint64_t ms;
        if (!cfg_parse_u64(value, &ms) || ms == 0 || ms > MAX_FRAME_MS)
            return "major_frame_ms must be between 1 and 3600000";
        l->p->major_frame_ns = ms * NS_PER_MS;
        return NULL;
    }
    if (strcmp(key, "window") == 0)
        return add_window(l, value);
    return "not a setting of [schedule]";
}

/* Whether windows a and b can both hold on one CPU. */
static bool share_a_cpu(const struct partition_window *a, const struct partition_window *b)
{
    return a->cpu == PARTITION_EVERY_CPU || b->cpu == PARTITION_EVERY_CPU || a->cpu == b->cpu;
}

static bool applies(const struct partition_window *w, unsigned cpu)
{
    return w->cpu == PARTITION_EVERY_CPU || (unsigned)w->cpu == cpu;
}

static int refuse(struct loader *l, const char *fmt, unsigned a, unsigned b)
{
    fmt_format(l->why, l->why_len, fmt, a, b);
    l->p->enabled = false;
    return -1;
}

int partition_load(const char *cfg, size_t len, struct partition_plan *p, char *why, size_t why_len)
{
    struct loader l = {p, why, why_len, false};
    struct cfg_error err;
    *p = (struct partition_plan){0};
    if (why_len)
        why[0] = '\0';
    if (cfg && cfg_parse(cfg, len, apply, &l, &err) != 0) {
        fmt_format(why, why_len, "hv.cfg line %u: %s", err.line, err.reason);
        p->enabled = false;
        return -1;
    }
    if (!l.partitioned)
        return 0;
    if (!p->major_frame_ns)
        return refuse(&l, "[schedule]: partitioned needs major_frame_ms", 0, 0);
    if (!p->count)
        return refuse(&l, "[schedule]: partitioned needs at least one window", 0, 0);
    /* Insertion sort by offset, then every window inside the frame and
     * none overlapping the next. */
    for (unsigned i = 1; i < p->count; i++) {
        struct partition_window w = p->w[i];
        unsigned j = i;
        while (j && p->w[j - 1].offset_ns > w.offset_ns) {
            p->w[j] = p->w[j - 1];
            j--;
        }
        p->w[j] = w;
    }
    for (unsigned i = 0; i < p->count; i++) {
        const struct partition_window *w = &p->w[i];
        if (w->offset_ns + w->duration_ns > p->major_frame_ns)
            return refuse(&l, "[schedule]: a window (%u ms from %u ms) ends after the major frame",
                          (unsigned)(w->duration_ns / NS_PER_MS), (unsigned)(w->offset_ns / NS_PER_MS));
        /* Sorted by offset: a later window overlaps w when it starts
         * before w ends; only one that can hold on the same CPU matters. */
        for (unsigned j = i + 1; j < p->count && p->w[j].offset_ns < w->offset_ns + w->duration_ns;
             j++)
            if (share_a_cpu(w, &p->w[j]))
                return refuse(&l, "[schedule]: the windows at %u ms and %u ms overlap on a CPU",
                              (unsigned)(w->offset_ns / NS_PER_MS),
                              (unsigned)(p->w[j].offset_ns / NS_PER_MS));
    }
    p->enabled = true;
    return 0;
}

const struct partition_window *partition_at(const struct partition_plan *p, uint64_t t,
                                            unsigned cpu, uint64_t *until_next_ns)
{
    uint64_t phase = t % p->major_frame_ns;
    /* The windows of one CPU never overlap (partition_load): in offset
     * order they are that CPU's timeline. */
    for (unsigned i = 0; i < p->count; i++) {
        const struct partition_window *w = &p->w[i];
        if (!applies(w, cpu))
            continue;
        if (phase < w->offset_ns) {
            *until_next_ns = w->offset_ns - phase; /* a gap before this window */
            return NULL;
        }
        if (phase < w->offset_ns + w->duration_ns) {
            *until_next_ns = w->offset_ns + w->duration_ns - phase;
            return w;
        }
    }
    *until_next_ns = p->major_frame_ns - phase; /* the gap at the end of the frame */
    return NULL;
}
