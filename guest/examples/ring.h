/* The protocol of guest/examples/producer.c and consumer.c: a ring of
 * messages in the shared memory region "ring" (hv.cfg: [shm ring], the
 * producer maps it read-write, the consumer read-only) and one event
 * channel between the two guests.
 *
 *   1. The producer allocates an unbound port for "consumer", fills in the
 *      header and sets `magic` last.
 *   2. The consumer waits for `magic`, binds to the producer's port and
 *      sends once: "I am here".
 *   3. The producer writes a batch of at most RING_SLOTS messages at
 *      msg[seq % RING_SLOTS], publishes `head` (messages written so far) and
 *      notifies. The consumer reads and checks every message up to `head`
 *      and notifies back: the batch is consumed, the ring is free again.
 *   4. After `total` messages both exit 0.
 *
 * The consumer cannot write the region, so the producer learns of its
 * progress only from the notifications; that is why a batch is written only
 * once the previous one is acknowledged. */
#pragma once

#include <stdint.h>

#define RING_MAGIC 0x31676e6972766868ull /* "hhvring1" */
#define RING_SLOTS 256
#define RING_PAYLOAD 48
#define RING_MESSAGES 20000

struct ring_msg {
    uint64_t seq;
    uint32_t len;      /* payload bytes used */
    uint32_t checksum; /* ring_checksum() of seq, len and the payload */
    uint8_t payload[RING_PAYLOAD];
};

struct ring_shm {
    uint64_t magic;         /* RING_MAGIC once the rest is valid */
    uint32_t producer_port; /* the producer's port, unbound for "consumer" */
    uint32_t slots;         /* RING_SLOTS */
    uint64_t total;         /* messages the producer sends */
    uint64_t head;          /* messages written so far */
    uint64_t reserved[4];
    struct ring_msg msg[RING_SLOTS];
};

_Static_assert(sizeof(struct ring_msg) == 64, "one message per cache line");

/* FNV-1a, 32 bits, over the fields that travel. */
static inline uint32_t ring_checksum(const volatile struct ring_msg *m, uint32_t len)
{
    uint32_t h = 2166136261u;

    for (unsigned i = 0; i < 8; i++)
        h = (h ^ (uint8_t)(m->seq >> (8 * i))) * 16777619u;
    for (unsigned i = 0; i < 4; i++)
        h = (h ^ (uint8_t)(len >> (8 * i))) * 16777619u;
    for (uint32_t i = 0; i < len && i < RING_PAYLOAD; i++)
        h = (h ^ m->payload[i]) * 16777619u;
    return h;
}
