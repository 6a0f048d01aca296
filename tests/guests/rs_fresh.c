/* A guest restarted on exit (hv.cfg on_exit = restart, max_restarts = 2):
 * each life checks that what the last life dirtied is fresh again (its
 * .data as in the image, .bss and the heap zeroed) while the [shm rsmem]
 * region it shares with rs-keeper still holds what the earlier lives wrote;
 * then dirties all of it and exits 0, which restarts it. Also checks that
 * HV_CALL_HEALTH_READ is refused to a guest without `monitor = yes`.
 * (tests/system/restart_cases.py) */
#include "ev_common.h"

#define HEAP_CHECK_BYTES (64 * 1024)

struct rs_shared {
    uint64_t lives;     /* lives of rs-fresh that finished their checks */
    uint64_t pattern;   /* what the last life wrote */
};

static volatile uint64_t data_word = 0x1234567890abcdefull;
static volatile uint64_t bss_word;

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    pv_name = "rs-fresh";
    uint32_t life = si->restarts;
    volatile struct rs_shared *shm = ev_shm("rsmem", sizeof(struct rs_shared), true);
    volatile uint8_t *heap = (volatile uint8_t *)(uintptr_t)si->heap_start;
    hvg_printf("rs-fresh: life with restarts = %u\n", life);

    expect_eq("its .data word is the image's", (int64_t)data_word, 0x1234567890abcdefll);
    expect_eq("its .bss word is zero", (int64_t)bss_word, 0);
    expect_true("it has a heap of at least 64 KiB", si->heap_bytes >= HEAP_CHECK_BYTES);
    uint64_t dirty = 0;
    for (uint64_t i = 0; i < HEAP_CHECK_BYTES && i < si->heap_bytes; i++)
        dirty += heap[i] != 0;
    expect_eq("bytes of its heap not zero", (int64_t)dirty, 0);
    expect_eq("the shared region counts its earlier lives", (int64_t)shm->lives, life);
    expect_eq("and holds the last life's pattern", (int64_t)shm->pattern,
              life ? (int64_t)(0xa5a5000000000000ull | (life - 1)) : 0);
    struct hv_health_entry e;
    expect_eq("HV_CALL_HEALTH_READ without monitor = yes", hvg_health_read(0, 0, &e, 1),
              -HV_EPERM);

    /* Dirty everything a restart must make fresh again. */
    data_word = 0xdeadull;
    bss_word = 0xbeefull;
    for (uint64_t i = 0; i < HEAP_CHECK_BYTES && i < si->heap_bytes; i++)
        heap[i] = 0x5a;
    shm->pattern = 0xa5a5000000000000ull | life;
    int rc = pv_finish();
    __atomic_store_n(&shm->lives, (uint64_t)life + 1, __ATOMIC_RELEASE);
    return rc;
}
