/* bench-main's figures of events: to itself, to bench-event in another
 * guest, and the timer's lateness. */
#include <stddef.h>

#include "bench/guests/main/figures.h"

/* --- events (include/hv/abi_event.h) ----------------------------------------
 * Upcall handlers in asm, like the trap handlers: the least a guest kernel's
 * handler can do, knowing its one port. abi_event.h's protocol: clear
 * upcall_pending, exchange pending_sel with 0, clear the port's pending bit,
 * return with HV_CALL_IRET (which unmasks). bench_event_vcpu/word/bit say
 * what to clear; each figure's `before` sets them. The SDK's dispatcher
 * (hvg_events_init, guest/lib/event_entry.S and event.c) would add its
 * register saving, C dispatch and loops over pending_sel to every figure. */
_Static_assert(offsetof(struct hv_vcpu_shared, upcall_pending) == 0, "EVENT_CLEAR");
_Static_assert(offsetof(struct hv_vcpu_shared, pending_sel) == 16, "EVENT_CLEAR");

volatile struct hv_vcpu_shared *bench_event_vcpu;
volatile uint64_t *bench_event_word; /* the port's word of evtchn_pending */
uint64_t bench_event_bit;            /* the port's bit in it */
volatile uint64_t bench_self_upcalls, bench_timer_upcalls, bench_timer_stamp;

void bench_self_upcall(void), bench_timer_upcall(void);

/* Uses rax and rcx, which the iret frame (pushed first) gives back. */
#define EVENT_CLEAR "mov bench_event_vcpu(%rip), %rax\n\tmovb $0, (%rax)\n\t" \
                    "xor %ecx, %ecx\n\txchg %rcx, 16(%rax)\n\t" \
                    "mov bench_event_word(%rip), %rax\n\tmov bench_event_bit(%rip), %rcx\n\t" \
                    "lock btr %rcx, (%rax)\n\t"
__asm__(".pushsection .text\n"
        /* event_self: any code may be interrupted; every register comes
         * back (rax, rcx, r11 through the frame). 14 instructions. */
        "bench_self_upcall:\n\t" IRET_FRAME EVENT_CLEAR
        "incq bench_self_upcalls(%rip)\n\t" IRET_CALL
        /* timer_deadline_late: the TSC first, as the upcall is entered. It
         * costs rax and rdx: only ever entered right after the `syscall` of
         * bench_block(), whose result (0) the frame gives back in rax and
         * whose clobber rdx is. 18 instructions. */
        "bench_timer_upcall:\n\trdtsc\n\tshl $32, %rdx\n\tor %rdx, %rax\n\t"
        "mov %rax, bench_timer_stamp(%rip)\n\tincq bench_timer_upcalls(%rip)\n\t"
        "pushq $0\n\tpush %r11\n\tpush %rcx\n\tpushq $0\n\t" EVENT_CLEAR IRET_CALL
        ".popsection\n");

static const char *set_upcall(void (*handler)(void))
{
    last_result = hvg_set_upcall((uint64_t)(uintptr_t)handler);
    return last_result == 0 ? NULL : "HV_CALL_SET_UPCALL failed";
}

/* What the handlers clear, for `port` on vCPU 0. */
static void event_targets(int64_t port)
{
    bench_event_vcpu = hvg_vcpu_shared(0);
    bench_event_word = &hvg_shared()->evtchn_pending[port / 64];
    bench_event_bit = (uint64_t)port % 64;
}

static bool bad_port(int64_t port)
{
    last_result = port;
    return port < 0 || port >= HV_EVTCHN_PORTS;
}

/* The handler left nothing behind; then the port closes and the upcall
 * entry goes (no upcall while other figures run). */
static const char *event_done(int64_t port)
{
    volatile struct hv_vcpu_shared *v = hvg_vcpu_shared(0);

    if (v->upcall_mask)
        return "events stayed masked after the upcalls returned";
    if (v->upcall_pending || v->pending_sel || hvg_evtchn_is_pending((unsigned)port))
        return "the upcalls left the event pending";
    if ((last_result = hvg_evtchn_close((uint64_t)port)) != 0)
        return "HV_CALL_EVTCHN_CLOSE failed";
    return set_upcall(NULL);
}

/* --- event_self: send on an IPI port to this very vCPU -> the upcall ->
 * HV_CALL_IRET -> right after the send --------------------------------------- */

static int64_t self_port = -1;

const char *self_before(void)
{
    self_port = hvg_evtchn_bind_ipi(0);
    if (bad_port(self_port))
        return "HV_CALL_EVTCHN_BIND_IPI(0) failed";
    event_targets(self_port);
    if (hvg_vcpu_shared(0)->upcall_mask)
        return "events are masked";
    return set_upcall(bench_self_upcall);
}

const char *self_after(void)
{
    return event_done(self_port);
}

uint64_t __attribute__((noinline)) sample_event_self(void)
{
    uint64_t seen = bench_self_upcalls;
    uint64_t t0 = bench_tsc();
    int64_t r = hvg_evtchn_send((uint64_t)self_port);
    uint64_t t1 = bench_tsc();

    last_result = r;
    return r == 0 && bench_self_upcalls == seen + 1 ? t1 - t0 : SAMPLE_FAILED;
}

/* --- event_cross_guest: send to bench-event (blocked) -> hv switches to it
 * -> the first instruction of its upcall (rdtsc) ------------------------------
 * Sender's rdtsc to receiver's rdtsc; the TSC is one clock for both. Its
 * handler then returns, it blocks again, and we are back after the send. */

static volatile struct bench_event_shm *event_peer;
static int64_t cross_port = -1;
static bool event_peer_released;

/* bench-event set up and blocked (it runs first), waiting for our events. */
static volatile struct bench_event_shm *event_peer_waiting(void)
{
    const struct hv_shm_info *shm = hvg_shm(BENCH_EVENT_SHM);

    if (!shm || !shm->writable || shm->bytes < sizeof(struct bench_event_shm))
        return NULL;
    volatile struct bench_event_shm *s = (volatile struct bench_event_shm *)(uintptr_t)shm->va;
    return __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == BENCH_EVENT_READY ? s : NULL;
}

const char *cross_before(void)
{
    if (!(event_peer = event_peer_waiting()))
        return "bench-event is not waiting in [shm " BENCH_EVENT_SHM "]";
    cross_port = hvg_evtchn_bind_peer(BENCH_EVENT_GUEST, event_peer->port);
    return bad_port(cross_port) ? "HV_CALL_EVTCHN_BIND_PEER(bench-event) failed" : NULL;
}

unsigned blocked_event_peer(void)
{
    return event_peer_waiting() && !event_peer_released ? 1 : 0;
}

/* Lets bench-event end: `quit`, then one more event. Also at the end of
 * main, whatever broke before. */
const char *release_event_peer(void)
{
    if (event_peer_released || !(event_peer = event_peer_waiting()))
        return NULL;
    event_peer_released = true;
    if (cross_port < 0) {
        cross_port = hvg_evtchn_bind_peer(BENCH_EVENT_GUEST, event_peer->port);
        if (bad_port(cross_port))
            return "HV_CALL_EVTCHN_BIND_PEER(bench-event) failed";
    }
    __atomic_store_n(&event_peer->quit, 1, __ATOMIC_RELEASE);
    uint64_t seen = event_peer->upcalls;
    if ((last_result = hvg_evtchn_send((uint64_t)cross_port)) != 0)
        return "HV_CALL_EVTCHN_SEND failed";
    return event_peer->upcalls == seen + 1 ? NULL : "bench-event's last upcall did not run";
}

const char *cross_after(void)
{
    const char *why = release_event_peer();

    if (why)
        return why;
    /* It ran at once (woken, first in the queue) and ended. */
    return guests_running() == 1 ? NULL : "bench-event did not end";
}

uint64_t __attribute__((noinline)) sample_event_cross(void)
{
    volatile struct bench_event_shm *s = event_peer;
    uint64_t seen = s->upcalls;
    uint64_t t0 = bench_tsc();
    int64_t r = hvg_evtchn_send((uint64_t)cross_port);
    uint64_t t1 = s->stamp;

    last_result = r;
    if (r != 0 || s->upcalls != seen + 1 || t1 < t0)
        return SAMPLE_FAILED;
    return t1 - t0;
}

/* --- timer_deadline_late: HV_CALL_SET_TIMER at hvg_now() + TIMER_DELAY_NS,
 * HV_CALL_BLOCK until the timer's upcall: its entry (rdtsc, as system time)
 * minus the deadline, in ns ------------------------------------------------
 * Events stay masked outside HV_CALL_BLOCK (which unmasks as it sleeps), so
 * the upcall only ever interrupts bench_block(). */

#define TIMER_DELAY_NS 100000 /* 100 us: well past the block, the vCPU sleeps */

static int64_t timer_port = -1;

const char *timer_before(void)
{
    timer_port = hvg_evtchn_bind_virq(HV_VIRQ_TIMER);
    if (bad_port(timer_port))
        return "HV_CALL_EVTCHN_BIND_VIRQ(HV_VIRQ_TIMER) failed";
    event_targets(timer_port);
    hvg_events_mask(0);
    return set_upcall(bench_timer_upcall);
}

const char *timer_after(void)
{
    /* Nothing pending, so unmasking makes no hypercall, and the handler
     * never interrupts anything but bench_block(). */
    if (hvg_vcpu_shared(0)->upcall_pending)
        return "the upcalls left the event pending";
    hvg_events_unmask(0);
    return event_done(timer_port);
}

uint64_t __attribute__((noinline)) sample_timer_late(void)
{
    uint64_t seen = bench_timer_upcalls;
    uint64_t deadline = hvg_now() + TIMER_DELAY_NS;
    int64_t r = hvg_set_timer(deadline);

    while (r == 0 && bench_timer_upcalls == seen) {
        r = bench_block();
        hvg_events_mask(0);
    }
    last_result = r;
    if (r != 0 || bench_timer_upcalls != seen + 1)
        return SAMPLE_FAILED;
    uint64_t fired = bench_system_ns_at(bench_timer_stamp);
    if (fired < deadline) {
        last_result = (int64_t)(fired - deadline);
        return SAMPLE_FAILED; /* the upcall came before the deadline */
    }
    return fired - deadline;
}
