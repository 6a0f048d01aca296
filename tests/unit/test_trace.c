/* hv/debug/trace_rec.c: the trace ring (wraps, counts what it lost, hands
 * records back oldest first) and the dump's line format (docs/trace.md). */
#include "check.h"
#include "hv/debug/trace_rec.h"

static struct trace_rec *put(struct trace_ring *r, uint64_t ns)
{
    struct trace_rec *rec = trace_ring_put(r);
    if (rec) {
        memset(rec, 0, sizeof(*rec));
        rec->ns = ns;
        rec->event = TR_TIMER;
        rec->guest = TRACE_NO_GUEST;
    }
    return rec;
}

static void record_is_32_bytes(void)
{
    CHECK_EQ_U64(sizeof(struct trace_rec), 32);
}

static void ring_keeps_order_until_full(void)
{
    struct trace_rec store[4];
    struct trace_ring r;
    trace_ring_init(&r, store, 4);
    CHECK(trace_ring_take(&r) == NULL);
    for (uint64_t i = 1; i <= 3; i++)
        put(&r, i);
    for (uint64_t i = 1; i <= 3; i++) {
        const struct trace_rec *rec = trace_ring_take(&r);
        CHECK(rec && rec->ns == i);
    }
    CHECK(trace_ring_take(&r) == NULL);
    CHECK_EQ_U64(r.lost, 0);
    CHECK_EQ_U64(r.written, 3);
}

static void ring_wraps_and_counts_the_lost(void)
{
    struct trace_rec store[4];
    struct trace_ring r;
    trace_ring_init(&r, store, 4);
    for (uint64_t i = 1; i <= 10; i++)
        put(&r, i);
    CHECK_EQ_U64(r.count, 4);
    CHECK_EQ_U64(r.lost, 6);
    CHECK_EQ_U64(r.written, 10);
    /* The last four, oldest first. */
    for (uint64_t i = 7; i <= 10; i++) {
        const struct trace_rec *rec = trace_ring_take(&r);
        CHECK(rec && rec->ns == i);
    }
    CHECK(trace_ring_take(&r) == NULL);
    /* A ring taken in part and then written on keeps its order. */
    put(&r, 11);
    put(&r, 12);
    const struct trace_rec *rec = trace_ring_take(&r);
    CHECK(rec && rec->ns == 11);
    put(&r, 13);
    rec = trace_ring_take(&r);
    CHECK(rec && rec->ns == 12);
    rec = trace_ring_take(&r);
    CHECK(rec && rec->ns == 13);
}

static void ring_without_storage_loses_everything(void)
{
    struct trace_ring r;
    trace_ring_init(&r, NULL, 16);
    CHECK(trace_ring_put(&r) == NULL);
    CHECK(trace_ring_put(&r) == NULL);
    CHECK_EQ_U64(r.lost, 2);
    CHECK(trace_ring_take(&r) == NULL);
}

static const char *line(unsigned cpu, uint16_t event, uint16_t guest, uint16_t vcpu, uint64_t a,
                        uint64_t b)
{
    static char buf[160];
    struct trace_rec r = {.ns = 123456789, .event = event, .guest = guest, .vcpu = vcpu, .a = a, .b = b};
    size_t n = trace_format(buf, sizeof(buf), cpu, &r);
    CHECK_EQ_U64(n, strlen(buf));
    return buf;
}

static void lines_as_documented(void)
{
    CHECK_STR_EQ(line(0, TR_RUNSTATE, 1, 0, 0, 0), "trace 0 123456789 runstate_change d1v0 running");
    CHECK_STR_EQ(line(0, TR_RUNSTATE, 2, 3, 2, 0), "trace 0 123456789 runstate_change d2v3 blocked");
    CHECK_STR_EQ(line(1, TR_RUNSTATE, 2, 3, 9, 0), "trace 1 123456789 runstate_change d2v3 ?");
    CHECK_STR_EQ(line(0, TR_SWITCH_INFNEXT, 1, 1, 0, 0), "trace 0 123456789 switch_infnext d1v1");
    CHECK_STR_EQ(line(0, TR_HYPERCALL, 1, 0, 10, 0), "trace 0 123456789 hypercall d1v0 nr=10 a0=0");
    CHECK_STR_EQ(line(0, TR_HYPERCALL, 1, 0, 22, 3), "trace 0 123456789 hypercall d1v0 nr=22 a0=0x3");
    CHECK_STR_EQ(line(0, TR_TRAP, 1, 0, 14, 0), "trace 0 123456789 trap d1v0 vec=14");
    CHECK_STR_EQ(line(0, TR_TRAP, 1, 0, 0x102, 0), "trace 0 123456789 trap d1v0 kind=upcall");
    CHECK_STR_EQ(line(0, TR_EVTCHN_DELIVER, 2, 0, 4, 0), "trace 0 123456789 evtchn_deliver d2v0 port=4");
    CHECK_STR_EQ(line(0, TR_TIMER, TRACE_NO_GUEST, 0, 0, 0), "trace 0 123456789 timer_fire -");
    CHECK_STR_EQ(line(0, TR_WINDOW, TRACE_NO_GUEST, 0, 1, 0), "trace 0 123456789 window - idx=1");
    CHECK_STR_EQ(line(0, TR_WINDOW, TRACE_NO_GUEST, 0, ~0ull, 0), "trace 0 123456789 window - gap");
    CHECK_STR_EQ(line(0, TR_DOM_END, 3, 0, 1, 0), "trace 0 123456789 dom_end d3 action=restart");
    CHECK_STR_EQ(line(0, TR_DOM_RESTART, 3, 0, 2, 0), "trace 0 123456789 dom_restart d3 restarts=2");
    CHECK_STR_EQ(line(0, 999, 1, 0, 0, 0), "trace 0 123456789 unknown d1v0");
}

static void long_line_is_cut_not_overrun(void)
{
    char buf[20];
    struct trace_rec r = {.ns = 123456789, .event = TR_EVTCHN_DELIVER, .guest = 1, .a = 4};
    size_t n = trace_format(buf, sizeof(buf), 0, &r);
    CHECK_EQ_U64(n, sizeof(buf) - 1);
    CHECK_EQ_U64(strlen(buf), sizeof(buf) - 1);
    CHECK_STR_EQ(buf, "trace 0 123456789 e");
    struct trace_rec h = {.ns = 1, .event = TR_HYPERCALL, .guest = 1, .a = ~0ull, .b = ~0ull};
    char big[48];
    n = trace_format(big, sizeof(big), 0, &h);
    CHECK_EQ_U64(n, sizeof(big) - 1);
    CHECK_EQ_U64(strlen(big), sizeof(big) - 1);
}

int main(void)
{
    check_suite = "trace";
    RUN_TEST(record_is_32_bytes);
    RUN_TEST(ring_keeps_order_until_full);
    RUN_TEST(ring_wraps_and_counts_the_lost);
    RUN_TEST(ring_without_storage_loses_everything);
    RUN_TEST(lines_as_documented);
    RUN_TEST(long_line_is_cut_not_overrun);
    return check_finish();
}
