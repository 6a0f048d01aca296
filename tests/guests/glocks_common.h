/* What glocks-race and glocks-peer (tests/guests/glocks_race.c,
 * glocks_peer.c) share: their random numbers, the check that counts and
 * reports, and the wait for the guest's four vCPUs. Each includes it once
 * (every .c in tests/guests is an image of its own) after setting
 * GLOCKS_NAME to its own name. */
#pragma once

#include "hvg.h"
#include "hvg_event.h" /* hvg_now */

#define VCPUS 4

/* Bounded by time, not by spins: on a loaded host the others' console
 * phase (rate-limited) takes seconds of system time; hv's time limit ends
 * a guest stuck waiting anyway. */
#define WAIT_NS 60000000000ull

static volatile unsigned bad, checks;

/* xorshift64: each vCPU's own sequence from its own seed. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A check that fails reports, the first eight only (the console is one of
 * the things being raced: it must not be flooded with reports too). */
static void check(unsigned vcpu, const char *what, int64_t rc, bool ok)
{
    __atomic_fetch_add(&checks, 1, __ATOMIC_RELAXED);
    if (ok)
        return;
    if (__atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED) < 8)
        hvg_printf(GLOCKS_NAME ": FAILED: vCPU %u: %s answered %lld\n", vcpu, what,
                   (long long)rc);
}

/* Waits until *counter reaches want (or WAIT_NS pass: then a failed check). */
static void wait_for(volatile unsigned *counter, unsigned want)
{
    uint64_t until = hvg_now() + WAIT_NS;
    while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) < want && hvg_now() < until)
        hvg_yield(); /* on one CPU the others need it */
    unsigned got = __atomic_load_n(counter, __ATOMIC_ACQUIRE);
    check(0, "the vCPUs meeting", (int64_t)got, got >= want);
}

/* The guest's vCPUs checked at the start: VCPUS of them, or the image is
 * booted wrong and nothing it would report means anything. */
static void expect_vcpus(const struct hv_start_info *si, unsigned vcpu)
{
    if (vcpu >= VCPUS || si->vcpu_count != VCPUS) {
        hvg_printf(GLOCKS_NAME ": FAILED: vCPU %u of %u\n", vcpu, si->vcpu_count);
        hvg_exit(1);
    }
}
