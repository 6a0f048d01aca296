/* producer: the sending half of a producer/consumer pair (guest/examples/
 * ring.h has the protocol; consumer.c is the other half). It needs hv.cfg
 * to share a region "ring" with it read-write and with "consumer"
 * (guest/examples/hv.cfg):
 *     [shm ring]
 *     size = 64K
 *     map = producer:rw consumer:ro
 * It offers "consumer" an event channel, writes RING_MESSAGES messages into
 * the ring a batch at a time, notifying after each batch and waiting for the
 * consumer's notification that the batch is consumed, and exits 0. */
#include "hvg.h"
#include "hvg_event.h"

#include "ring.h"

HV_GUEST_NOTE("producer", 0, 1, 0);

#define TIMEOUT_NS (30 * HVG_NS_PER_SEC)

static volatile uint64_t acks; /* notifications from the consumer */

static void on_consumer(unsigned port, unsigned vcpu, void *arg)
{
    (void)port, (void)vcpu, (void)arg;
    __atomic_fetch_add(&acks, 1, __ATOMIC_RELEASE);
}

static bool acks_reach(void *target)
{
    return __atomic_load_n(&acks, __ATOMIC_ACQUIRE) >= *(uint64_t *)target;
}

static int fail(const char *what, int64_t error)
{
    hvg_printf("producer: %s: %lld\n", what, (long long)error);
    return 1;
}

/* A message's content depends only on its number, so it can be checked. */
static void fill(volatile struct ring_msg *m, uint64_t seq)
{
    uint64_t x = seq * 0x9e3779b97f4a7c15ull + 1;
    uint32_t len = (uint32_t)(seq % (RING_PAYLOAD + 1));

    m->seq = seq;
    m->len = len;
    for (uint32_t i = 0; i < RING_PAYLOAD; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        m->payload[i] = (uint8_t)x;
    }
    m->checksum = ring_checksum(m, len);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    const struct hv_shm_info *shm = hvg_shm("ring");
    if (shm == NULL || !shm->writable || shm->bytes < sizeof(struct ring_shm)) {
        hvg_printf("producer: no writable shared region \"ring\" of %llu bytes: hv.cfg needs "
                   "[shm ring] with map = producer:rw consumer:ro\n",
                   (unsigned long long)sizeof(struct ring_shm));
        return 1;
    }
    volatile struct ring_shm *ring = (volatile struct ring_shm *)(uintptr_t)shm->va;

    int64_t r = hvg_events_init(vcpu);
    if (r < 0)
        return fail("hvg_events_init", r);
    int64_t port = hvg_evtchn_alloc_unbound("consumer");
    if (port < 0)
        return fail("allocating a port for consumer", port);
    r = hvg_event_handler((unsigned)port, on_consumer, NULL);
    if (r < 0)
        return fail("registering the port's handler", r);

    ring->producer_port = (uint32_t)port;
    ring->slots = RING_SLOTS;
    ring->total = RING_MESSAGES;
    ring->head = 0;
    __atomic_store_n(&ring->magic, RING_MAGIC, __ATOMIC_RELEASE);
    hvg_printf("producer: port %lld offered to consumer; %u messages to send\n", (long long)port,
               RING_MESSAGES);

    uint64_t deadline = hvg_now() + TIMEOUT_NS;
    uint64_t want = 1; /* the consumer's "I am here" */
    r = hvg_wait(vcpu, acks_reach, &want, deadline);
    if (r < 0)
        return fail("waiting for consumer to bind", r);

    uint64_t seq = 0, batches = 0;
    while (seq < RING_MESSAGES) {
        uint64_t end = seq + RING_SLOTS < RING_MESSAGES ? seq + RING_SLOTS : RING_MESSAGES;
        for (; seq < end; seq++)
            fill(&ring->msg[seq % RING_SLOTS], seq);
        __atomic_store_n(&ring->head, seq, __ATOMIC_RELEASE);
        batches++;
        r = hvg_evtchn_send((uint64_t)port);
        if (r < 0)
            return fail("notifying consumer", r);
        want = 1 + batches;
        r = hvg_wait(vcpu, acks_reach, &want, deadline);
        if (r < 0)
            return fail("waiting for consumer to take a batch", r);
    }
    hvg_printf("producer: sent %llu messages in %llu batches, each acknowledged\n",
               (unsigned long long)seq, (unsigned long long)batches);
    return 0;
}
