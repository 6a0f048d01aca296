/* consumer: the receiving half of a producer/consumer pair (guest/examples/
 * ring.h has the protocol; producer.c is the other half). It waits for the
 * producer to publish its port in the shared region "ring" (read-only
 * here), binds to it, and checks every message -- its sequence number and
 * checksum -- notifying the producer after each batch. Exits 0 when all
 * RING_MESSAGES messages arrived in order and intact. */
#include "hvg.h"
#include "hvg_event.h"

#include "ring.h"

HV_GUEST_NOTE("consumer", 0, 1, 0);

#define TIMEOUT_NS (30 * HVG_NS_PER_SEC)

static volatile uint64_t notes; /* notifications from the producer */

static void on_producer(unsigned port, unsigned vcpu, void *arg)
{
    (void)port, (void)vcpu, (void)arg;
    __atomic_fetch_add(&notes, 1, __ATOMIC_RELEASE);
}

static bool notes_reach(void *target)
{
    return __atomic_load_n(&notes, __ATOMIC_ACQUIRE) >= *(uint64_t *)target;
}

static int fail(const char *what, int64_t error)
{
    hvg_printf("consumer: %s: %lld\n", what, (long long)error);
    return 1;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    const struct hv_shm_info *shm = hvg_shm("ring");
    if (shm == NULL || shm->bytes < sizeof(struct ring_shm)) {
        hvg_printf("consumer: no shared region \"ring\" of %llu bytes: hv.cfg needs "
                   "[shm ring] with map = producer:rw consumer:ro\n",
                   (unsigned long long)sizeof(struct ring_shm));
        return 1;
    }
    const volatile struct ring_shm *ring = (const volatile struct ring_shm *)(uintptr_t)shm->va;

    int64_t r = hvg_events_init(vcpu);
    if (r < 0)
        return fail("hvg_events_init", r);

    /* The producer may not have run yet: look every millisecond. */
    uint64_t deadline = hvg_now() + TIMEOUT_NS;
    while (__atomic_load_n(&ring->magic, __ATOMIC_ACQUIRE) != RING_MAGIC) {
        if (hvg_now() >= deadline)
            return fail("the producer never published its port", -HV_ETIMEDOUT);
        hvg_sleep_until(vcpu, hvg_now() + HVG_MS(1));
    }
    uint64_t total = ring->total;
    uint32_t producer_port = ring->producer_port;
    if (ring->slots != RING_SLOTS || total == 0)
        return fail("unexpected ring header (slots)", ring->slots);

    int64_t port = hvg_evtchn_bind_peer("producer", producer_port);
    if (port < 0)
        return fail("binding to the producer's port", port);
    r = hvg_event_handler((unsigned)port, on_producer, NULL);
    if (r < 0)
        return fail("registering the port's handler", r);
    r = hvg_evtchn_send((uint64_t)port); /* "I am here" */
    if (r < 0)
        return fail("greeting the producer", r);
    hvg_printf("consumer: bound port %lld to producer's port %u; expecting %llu messages\n",
               (long long)port, producer_port, (unsigned long long)total);

    uint64_t consumed = 0, batches = 0, seen = 0;
    while (consumed < total) {
        uint64_t want = seen + 1;
        r = hvg_wait(vcpu, notes_reach, &want, deadline);
        if (r < 0)
            return fail("waiting for the producer", r);
        seen = __atomic_load_n(&notes, __ATOMIC_ACQUIRE);
        uint64_t head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
        if (head > total || head - consumed > RING_SLOTS)
            return fail("the ring's head is out of bounds", (int64_t)head);
        if (head == consumed)
            continue; /* nothing new: no acknowledgement owed */
        for (; consumed < head; consumed++) {
            const volatile struct ring_msg *m = &ring->msg[consumed % RING_SLOTS];
            uint32_t len = m->len;
            if (m->seq != consumed || len > RING_PAYLOAD) {
                hvg_printf("consumer: message %llu: seq %llu, len %u: out of sequence\n",
                           (unsigned long long)consumed, (unsigned long long)m->seq, len);
                return 1;
            }
            if (ring_checksum(m, len) != m->checksum) {
                hvg_printf("consumer: message %llu: checksum 0x%x, computed 0x%x\n",
                           (unsigned long long)consumed, m->checksum, ring_checksum(m, len));
                return 1;
            }
        }
        batches++;
        r = hvg_evtchn_send((uint64_t)port);
        if (r < 0)
            return fail("acknowledging a batch", r);
    }
    hvg_printf("consumer: received %llu messages in %llu batches, all in sequence, checksums "
               "right\n", (unsigned long long)consumed, (unsigned long long)batches);
    return 0;
}
