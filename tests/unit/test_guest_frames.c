/* hv/mm/guest_frames.c: per-frame reference and W^X counters, checked
 * before every increment so that none can wrap, and frames going back to
 * the reservation they came from. The allocator is stubbed: frames are page
 * numbers in a small window, and a panic ends the case with a longjmp. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>

#include "hv/mm/guest_frames.h"
#include "hv/mm/mm.h"
#include "include/hv/abi.h"

#include "tests/unit/check.h"

#define FIRST_PAGE 0x100
#define PAGES 8
#define PA(i) ((uint64_t)(FIRST_PAGE + (i)) << 12)

static unsigned char info_mem[PAGES * 16];
static bool allocated[PAGES];
static unsigned next_free;
static jmp_buf on_panic;
static int panics;

void mm_frame_range(uint64_t *first, uint64_t *count)
{
    *first = FIRST_PAGE;
    *count = PAGES;
}

void *kalloc_zeroed(uint64_t bytes)
{
    if (bytes > sizeof(info_mem))
        return NULL;
    memset(info_mem, 0, sizeof(info_mem));
    return info_mem;
}

uint64_t frame_get_charged(struct frame_reservation *r)
{
    if (r->used >= r->pages || next_free >= PAGES)
        return 0;
    r->used++;
    allocated[next_free] = true;
    return PA(next_free++);
}

void frame_put_charged(struct frame_reservation *r, uint64_t phys)
{
    CHECK(r->used > 0);
    r->used--;
    allocated[(phys >> 12) - FIRST_PAGE] = false;
}

void frame_put(uint64_t phys)
{
    allocated[(phys >> 12) - FIRST_PAGE] = false;
}

void panic(const char *fmt, ...)
{
    (void)fmt;
    panics++;
    longjmp(on_panic, 1);
}

static void setup(void)
{
    next_free = 0;
    panics = 0;
    memset(allocated, 0, sizeof(allocated));
    CHECK(guest_frames_init());
}

#define W (PTE_W)
#define X (PTE_SW_EXEC)

static void test_wx_per_frame(void)
{
    setup();
    struct frame_reservation r = {.pages = 4};
    uint64_t pa = guest_frame_new(&r);
    CHECK(pa != 0);
    CHECK_EQ_U64(guest_frame_add_mapping(pa, W), 0);
    CHECK_EQ_U64(guest_frame_add_mapping(pa, X), (uint64_t)-HV_EPERM);
    CHECK_EQ_U64(guest_frame_add_mapping(pa, W | X), (uint64_t)-HV_EPERM);
    CHECK_EQ_U64(guest_frame_add_mapping(pa, 0), 0); /* read-only is always fine */
    guest_frame_drop_mapping(pa, W);
    CHECK_EQ_U64(guest_frame_add_mapping(pa, X), 0);
    CHECK_EQ_U64(guest_frame_add_mapping(pa, W), (uint64_t)-HV_EPERM);
    CHECK_EQ_U64(guest_frame_add_mapping(PA(PAGES), 0), (uint64_t)-HV_EPERM); /* not managed */
}

static void test_mapping_counters_stop_at_their_limit(void)
{
    setup();
    struct frame_reservation r = {.pages = 4};
    uint64_t pa = guest_frame_new(&r);
    for (uint32_t i = 0; i < GUEST_FRAME_MAX_MAPS; i++)
        if (guest_frame_add_mapping(pa, W) != 0) {
            CHECK(!"refused before the limit");
            break;
        }
    /* At the limit: refused, not wrapped to 0 (which would allow X). */
    CHECK_EQ_U64(guest_frame_add_mapping(pa, W), (uint64_t)-HV_ENOMEM);
    CHECK_EQ_U64(guest_frame_add_mapping(pa, X), (uint64_t)-HV_EPERM);
    guest_frame_drop_mapping(pa, W);
    CHECK_EQ_U64(guest_frame_add_mapping(pa, W), 0);

    uint64_t pb = guest_frame_new(&r);
    for (uint32_t i = 0; i < GUEST_FRAME_MAX_MAPS; i++)
        guest_frame_add_mapping(pb, X);
    CHECK_EQ_U64(guest_frame_add_mapping(pb, X), (uint64_t)-HV_ENOMEM);
    CHECK_EQ_U64(guest_frame_add_mapping(pb, W), (uint64_t)-HV_EPERM);
}

static void test_references_and_release_to_the_reservation(void)
{
    setup();
    struct frame_reservation r = {.pages = 1};
    uint64_t pa = guest_frame_new(&r);
    CHECK(pa != 0);
    CHECK_EQ_U64(guest_frame_new(&r), 0); /* the reservation is used up */
    CHECK(guest_frame_share(pa));
    CHECK(!guest_frame_release(pa, &r)); /* one reference left */
    CHECK_EQ_U64(r.used, 1);
    CHECK(guest_frame_release(pa, &r));
    CHECK_EQ_U64(r.used, 0);
    CHECK(!allocated[0]);
    CHECK(!guest_frame_share(pa)); /* a free frame cannot be shared */
    CHECK(!guest_frame_share(PA(PAGES)));
    /* Releasing it again is a bug in hv: it panics, it does not wrap. */
    if (setjmp(on_panic) == 0)
        guest_frame_release(pa, &r);
    CHECK_EQ_U64(panics, 1);
}

static void test_reference_count_stops_at_its_limit(void)
{
    setup();
    guest_frame_adopt(PA(3));
    /* Wide: 70000 shares (past any 16-bit count) all succeed and return. */
    uint64_t n = 0;
    while (n < 70000 && guest_frame_share(PA(3)))
        n++;
    CHECK_EQ_U64(n, 70000);
    while (n--)
        CHECK(!guest_frame_release(PA(3), NULL));
    /* Checked: 2^32 shares take too long here, so put the count (the
     * first 32 bits of the frame's record) just below its limit. */
    uint32_t *refs = (uint32_t *)(void *)(info_mem + 3 * 8);
    CHECK_EQ_U64(*refs, 1);
    *refs = GUEST_FRAME_MAX_REFS - 1;
    CHECK(guest_frame_share(PA(3)));
    CHECK(!guest_frame_share(PA(3)));
    CHECK_EQ_U64(*refs, GUEST_FRAME_MAX_REFS);
    *refs = 1;
    CHECK(guest_frame_release(PA(3), NULL));
    CHECK(!allocated[3]);
}

static void test_freeing_with_mappings_counted_panics(void)
{
    setup();
    struct frame_reservation r = {.pages = 1};
    uint64_t pa = guest_frame_new(&r);
    CHECK_EQ_U64(guest_frame_add_mapping(pa, W), 0);
    if (setjmp(on_panic) == 0)
        guest_frame_release(pa, &r);
    CHECK_EQ_U64(panics, 1);
    panics = 0;
    if (setjmp(on_panic) == 0)
        guest_frame_drop_mapping(PA(5), X); /* never counted */
    CHECK_EQ_U64(panics, 1);
}

/* SMP: a [shm] frame's counters are changed by several guests' vCPUs on
 * several CPUs at once, under no common lock (hv/mm/guest_frames.c). Two
 * threads share and release the same frame many times: the count must
 * come out exact (a plain ++/-- loses updates), and while one thread keeps
 * a writable mapping counted, the other's executable ones must all be
 * refused, and the other way round (W^X decided in one atomic step). */
#define RACE_ROUNDS 200000

struct race {
    uint64_t pa;
    uint64_t flags;
    uint64_t granted;
};

/* Both threads start together (else the first may finish before the
 * second runs, and nothing races). */
static int racers_ready;

static void start_line(void)
{
    __atomic_add_fetch(&racers_ready, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&racers_ready, __ATOMIC_ACQUIRE) < 2)
        ;
}

static void race(void *(*fn)(void *), struct race *a, struct race *b)
{
    pthread_t ta, tb;
    racers_ready = 0;
    pthread_create(&ta, NULL, fn, a);
    pthread_create(&tb, NULL, fn, b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
}

static void *share_and_release(void *arg)
{
    struct race *r = arg;
    start_line();
    for (int i = 0; i < RACE_ROUNDS; i++) {
        if (guest_frame_share(r->pa))
            guest_frame_release(r->pa, NULL); /* never the last: setup's stays */
    }
    return NULL;
}

static void *map_and_unmap(void *arg)
{
    struct race *r = arg;
    start_line();
    for (int i = 0; i < RACE_ROUNDS; i++)
        if (guest_frame_add_mapping(r->pa, r->flags) == 0) {
            r->granted++;
            guest_frame_drop_mapping(r->pa, r->flags);
        }
    return NULL;
}

static void test_concurrent_counts_stay_exact_and_wx_holds(void)
{
    setup();
    struct frame_reservation res = {.pages = 2};
    uint64_t pa = guest_frame_new(&res);
    struct race a = {.pa = pa}, b = {.pa = pa};
    race(share_and_release, &a, &b);
    /* Exactly one reference left: the next release frees the frame. */
    CHECK(guest_frame_release(pa, &res));
    CHECK_EQ_U64(res.used, 0);

    pa = guest_frame_new(&res);
    CHECK_EQ_U64(guest_frame_add_mapping(pa, W), 0); /* held writable throughout */
    struct race w = {.pa = pa, .flags = W}, x = {.pa = pa, .flags = X};
    race(map_and_unmap, &w, &x);
    CHECK_EQ_U64(w.granted, RACE_ROUNDS);
    CHECK_EQ_U64(x.granted, 0);
    guest_frame_drop_mapping(pa, W);
    CHECK(guest_frame_release(pa, &res)); /* every count back to zero */
}

int main(void)
{
    check_suite = "guest_frames";
    RUN_TEST(test_wx_per_frame);
    RUN_TEST(test_mapping_counters_stop_at_their_limit);
    RUN_TEST(test_references_and_release_to_the_reservation);
    RUN_TEST(test_reference_count_stops_at_its_limit);
    RUN_TEST(test_freeing_with_mappings_counted_panics);
    RUN_TEST(test_concurrent_counts_stay_exact_and_wx_holds);
    return check_finish();
}
