/* hv/sched/partition.c: [schedule] parsing, validation, window lookup. */
#include "check.h"
#include "hv/sched/partition.h"

#define MS 1000000ULL

static int load(const char *cfg, struct partition_plan *p, char *why)
{
    return partition_load(cfg, strlen(cfg), p, why, 160);
}

static void round_robin_by_default(void)
{
    struct partition_plan p;
    char why[160];
    CHECK_EQ_U64(load("[hv]\nlog_level = info\n", &p, why), 0);
    CHECK(!p.enabled);
    CHECK_EQ_U64(load("", &p, why), 0);
    CHECK(!p.enabled);
}

static void valid_plan_sorted_and_looked_up(void)
{
    struct partition_plan p;
    char why[160];
    const char *cfg = "[schedule]\nmode = partitioned\nmajor_frame_ms = 100\n"
                      "window = b 50 40\nwindow = a 0 40\n";
    CHECK_EQ_U64(load(cfg, &p, why), 0);
    CHECK(p.enabled);
    CHECK_EQ_U64(p.count, 2);
    CHECK_STR_EQ(p.w[0].guest, "a");
    uint64_t next;
    const struct partition_window *w = partition_at(&p, 10 * MS, 0, &next);
    CHECK(w && strcmp(w->guest, "a") == 0);
    CHECK_EQ_U64(next, 30 * MS);
    CHECK(partition_at(&p, 45 * MS, 0, &next) == NULL); /* the gap between */
    CHECK_EQ_U64(next, 5 * MS);
    w = partition_at(&p, 150 * MS + 1, 0, &next); /* second frame */
    CHECK(w && strcmp(w->guest, "b") == 0);
    CHECK(partition_at(&p, 95 * MS, 0, &next) == NULL); /* the gap at the end */
    CHECK_EQ_U64(next, 5 * MS);
}

static void bad_plans_refused(void)
{
    struct partition_plan p;
    char why[160];
    CHECK(load("[schedule]\nmode = partitioned\nwindow = a 0 10\n", &p, why) < 0);
    CHECK(strstr(why, "major_frame_ms") != NULL);
    CHECK(load("[schedule]\nmode = partitioned\nmajor_frame_ms = 100\n", &p, why) < 0);
    CHECK(strstr(why, "at least one window") != NULL);
    CHECK(load("[schedule]\nmode = partitioned\nmajor_frame_ms = 100\nwindow = a 80 30\n", &p,
               why) < 0);
    CHECK(strstr(why, "ends after the major frame") != NULL);
    CHECK(load("[schedule]\nmode = partitioned\nmajor_frame_ms = 100\nwindow = a 0 50\n"
               "window = b 40 10\n", &p, why) < 0);
    CHECK(strstr(why, "overlap") != NULL);
    CHECK(!p.enabled);
    CHECK(load("[schedule]\nmode = partitioned\nmajor_frame_ms = 100\nwindow = a 0 0\n", &p,
               why) < 0);
    CHECK(strstr(why, "at least 1 ms") != NULL);
    CHECK(load("[schedule]\nmode = partitioned\nmajor_frame_ms = 100\nwindow = a zero 10\n", &p,
               why) < 0);
    CHECK(load("[schedule]\nmode = partitioned\nmajor_frame_ms = 100\nwindow = a 0 10 junk\n",
               &p, why) < 0);
    CHECK(load("[schedule]\nmode = lottery\n", &p, why) < 0);
    CHECK(strstr(why, "round-robin or partitioned") != NULL);
    CHECK(load("[schedule]\nquantum = 5\n", &p, why) < 0);
}

static void touching_windows_are_fine(void)
{
    struct partition_plan p;
    char why[160];
    CHECK_EQ_U64(load("[schedule]\nmode = partitioned\nmajor_frame_ms = 20\nwindow = a 0 10\n"
                      "window = b 10 10\n", &p, why), 0);
    uint64_t next;
    const struct partition_window *w = partition_at(&p, 10 * MS, 0, &next);
    CHECK(w && strcmp(w->guest, "b") == 0);
}

/* Windows with cpu=N: each CPU its own timeline; overlaps only across
 * CPUs; a window without cpu= holds on every CPU. */
static void per_cpu_windows(void)
{
    struct partition_plan p;
    char why[160];
    const char *cfg = "[schedule]\nmode = partitioned\nmajor_frame_ms = 100\n"
                      "window = a 0 60 cpu=0\nwindow = b 20 60 cpu=1\nwindow = c 80 20\n";
    CHECK_EQ_U64(load(cfg, &p, why), 0);
    CHECK(p.enabled);
    uint64_t next;
    const struct partition_window *w = partition_at(&p, 30 * MS, 0, &next);
    CHECK(w && strcmp(w->guest, "a") == 0);
    CHECK_EQ_U64(next, 30 * MS);
    w = partition_at(&p, 30 * MS, 1, &next);
    CHECK(w && strcmp(w->guest, "b") == 0);
    CHECK_EQ_U64(next, 50 * MS);
    CHECK(partition_at(&p, 10 * MS, 1, &next) == NULL); /* CPU 1's gap: b starts at 20 */
    CHECK_EQ_U64(next, 10 * MS);
    CHECK(partition_at(&p, 70 * MS, 0, &next) == NULL); /* CPU 0's gap until c */
    CHECK_EQ_U64(next, 10 * MS);
    w = partition_at(&p, 90 * MS, 1, &next); /* c: every CPU */
    CHECK(w && strcmp(w->guest, "c") == 0);
    CHECK(partition_at(&p, 30 * MS, 2, &next) == NULL); /* CPU 2 has only c */
    CHECK_EQ_U64(next, 50 * MS);
    /* Overlapping on one CPU, or with a window of every CPU: refused. */
    CHECK(load("[schedule]\nmode = partitioned\nmajor_frame_ms = 100\n"
               "window = a 0 50 cpu=1\nwindow = b 40 10 cpu=1\n", &p, why) < 0);
    CHECK(strstr(why, "overlap on a CPU") != NULL);
    CHECK(load("[schedule]\nmode = partitioned\nmajor_frame_ms = 100\n"
               "window = a 0 50 cpu=1\nwindow = b 40 10\n", &p, why) < 0);
    CHECK(load("[schedule]\nmode = partitioned\nmajor_frame_ms = 100\n"
               "window = a 0 50 cpu=64\n", &p, why) < 0);
    CHECK(strstr(why, "0 to 63") != NULL);
    CHECK(load("[schedule]\nmode = partitioned\nmajor_frame_ms = 100\n"
               "window = a 0 50 cpu=1 x\n", &p, why) < 0);
    CHECK(load("[schedule]\nmode = partitioned\nmajor_frame_ms = 100\n"
               "window = a 0 50 cpu=\n", &p, why) < 0);
}

int main(void)
{
    check_suite = "partition";
    RUN_TEST(round_robin_by_default);
    RUN_TEST(valid_plan_sorted_and_looked_up);
    RUN_TEST(bad_plans_refused);
    RUN_TEST(touching_windows_are_fine);
    RUN_TEST(per_cpu_windows);
    return check_finish();
}
