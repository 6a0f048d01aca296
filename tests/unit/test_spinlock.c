/* hv/cpu/spinlock.h: the ticket lock every shared structure of hv's memory
 * management uses once several CPUs run guests. Host threads stand in for
 * CPUs (only the lock and unlock halves: the irqsave wrappers mask
 * interrupts, which a host process cannot). */
#include <pthread.h>
#include <sched.h>

/* Yield while waiting (see SPIN_RELAX in the header): four threads on a
 * 2-core host, with other work on it, otherwise take minutes. */
#define SPIN_RELAX() sched_yield()
#include "hv/cpu/spinlock.h"

#include "tests/unit/check.h"

#define THREADS 4
#define ROUNDS 20000

static struct spinlock lock;
static uint64_t counter;

static void *count(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        spin_lock(&lock);
        uint64_t v = counter; /* a read and a write apart: lost without the lock */
        counter = v + 1;
        spin_unlock(&lock);
    }
    return NULL;
}

static void test_mutual_exclusion(void)
{
    lock = (struct spinlock){0};
    counter = 0;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, count, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_U64(counter, (uint64_t)THREADS * ROUNDS);
    CHECK(!spin_is_locked(&lock));
}

/* Waiters are served in the order they asked: a thread that took its
 * ticket first gets the lock first, however the others spin. */
static int order[2], order_len;

static void *take_and_record(void *arg)
{
    int me = (int)(intptr_t)arg;
    spin_lock(&lock);
    order[order_len++] = me;
    spin_unlock(&lock);
    return NULL;
}

static void wait_for_tickets(uint16_t next)
{
    while (__atomic_load_n(&lock.next, __ATOMIC_ACQUIRE) != next)
        sched_yield();
}

static void test_first_come_first_served(void)
{
    lock = (struct spinlock){0};
    order_len = 0;
    spin_lock(&lock); /* ticket 0 */
    CHECK(spin_is_locked(&lock));
    pthread_t a, b;
    pthread_create(&a, NULL, take_and_record, (void *)1);
    wait_for_tickets(2); /* a holds ticket 1 */
    pthread_create(&b, NULL, take_and_record, (void *)2);
    wait_for_tickets(3); /* b holds ticket 2 */
    spin_unlock(&lock);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    CHECK_EQ_U64(order_len, 2);
    CHECK_EQ_U64(order[0], 1);
    CHECK_EQ_U64(order[1], 2);
}

/* The ticket counters are 16 bits: they wrap, and the lock keeps working. */
static void test_tickets_wrap(void)
{
    lock = (struct spinlock){.owner = 0xfffe, .next = 0xfffe};
    for (int i = 0; i < 4; i++) {
        spin_lock(&lock);
        CHECK(spin_is_locked(&lock));
        spin_unlock(&lock);
        CHECK(!spin_is_locked(&lock));
    }
    CHECK_EQ_U64(lock.owner, 2);
}

int main(void)
{
    check_suite = "spinlock";
    RUN_TEST(test_mutual_exclusion);
    RUN_TEST(test_first_come_first_served);
    RUN_TEST(test_tickets_wrap);
    return check_finish();
}
