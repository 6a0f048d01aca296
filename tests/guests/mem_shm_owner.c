/* The victim of tests/guests/mem_shm_ro.c: it has the [shm] region "victim"
 * read-write, fills it with a pattern, and keeps checking it while the
 * attacker (which hv.cfg maps the region read-only) tries every route to
 * write it. It waits until it is the last guest running (or 10 s), then
 * checks the pattern one last time:
 *
 *     mem-shm-owner: the region is unchanged
 *
 * and exits 0, or names the first changed word and exits 1. */
#include "hvg.h"
#include "hvg_event.h"

HV_GUEST_NOTE("mem-shm-owner", HVG_MIB(1), 1, HVG_KIB(64));

#define PATTERN(i) (0x5a5a000000000000ull | (uint64_t)(i))

static uint32_t guests_running(void)
{
    struct hv_guest_info info;
    return hvg_guest_info(&info) == 0 ? info.guests_running : 0;
}

static int64_t first_changed(volatile uint64_t *w, uint64_t words)
{
    for (uint64_t i = 0; i < words; i++)
        if (w[i] != PATTERN(i))
            return (int64_t)i;
    return -1;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    if (si->shm[0].va == 0 || !si->shm[0].writable) {
        hvg_printf("mem-shm-owner: no writable shared region\n");
        return 1;
    }
    volatile uint64_t *w = (volatile uint64_t *)(uintptr_t)si->shm[0].va;
    uint64_t words = si->shm[0].bytes / 8;
    for (uint64_t i = 0; i < words; i++)
        w[i] = PATTERN(i);
    hvg_printf("mem-shm-owner: %llu bytes filled\n", (unsigned long long)si->shm[0].bytes);
    uint64_t start = hvg_now();
    int64_t bad = -1;
    while (bad < 0 && guests_running() > 1 && hvg_now() - start < HVG_MS(10000)) {
        bad = first_changed(w, words);
        hvg_yield();
    }
    if (bad < 0)
        bad = first_changed(w, words);
    if (bad >= 0) {
        hvg_printf("mem-shm-owner: word %lld of the region was changed to 0x%llx\n",
                   (long long)bad, (unsigned long long)w[bad]);
        return 1;
    }
    hvg_printf("mem-shm-owner: the region is unchanged\n");
    return 0;
}
