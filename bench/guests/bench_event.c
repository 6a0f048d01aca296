/* bench-event: the receiving side of event_cross_guest (docs/benchmarks.md).
 *
 * bench/run.py puts it on boot a's ESP as "bench-0-event", which sorts (and
 * so starts) before bench-main and bench-peer: it sets up and blocks before
 * either runs, so bench-main's figures never see it runnable. Setting up:
 * find the region [shm BENCH_EVENT_SHM], bind HV_VIRQ_NOTICE, allocate a port
 * for bench-main, register the upcall handler below, publish the port and
 * BENCH_EVENT_READY in the region (BENCH_EVENT_FAILED, an error line and
 * status 1 if any step fails).
 *
 * Then it blocks (HV_CALL_BLOCK) in a loop. Each event bench-main sends wakes
 * it: hv switches to it and enters the upcall handler on the way out of the
 * block, the handler's first instruction reads the TSC (the figure's end),
 * stores it in the region, counts the upcall, clears the event and returns
 * with HV_CALL_IRET; the loop blocks again, which hands the CPU back to
 * bench-main, right after its send. It ends when bench-main sets `quit`
 * (and sends), or when hv's notice says bench-main is gone. */
#include "hvg.h"
#include "hvg_event.h"

#include "bench/guests/bench.h"

HV_GUEST_NOTE(BENCH_EVENT_GUEST, 0, 1, 0);

/* Read by the handler: where the stamp goes, and what to clear. */
volatile struct bench_event_shm *bench_recv_shm;
volatile struct hv_vcpu_shared *bench_recv_vcpu;
volatile uint64_t *bench_recv_word; /* the port's word of evtchn_pending */
uint64_t bench_recv_bit;            /* the port's bit in it */

void bench_recv_upcall(void);
void bench_recv_iret_failed(int64_t error);

_Static_assert(HV_CALL_IRET == 10, "bench_recv_upcall hard-codes HV_CALL_IRET");
_Static_assert(offsetof(struct bench_event_shm, stamp) == 16, "bench_recv_upcall: stamp");
_Static_assert(offsetof(struct bench_event_shm, upcalls) == 24, "bench_recv_upcall: upcalls");
_Static_assert(offsetof(struct hv_vcpu_shared, upcall_pending) == 0, "upcall_pending");
_Static_assert(offsetof(struct hv_vcpu_shared, pending_sel) == 16, "pending_sel");

/* The upcall handler, 19 instructions. rdtsc comes first, so the stamp is
 * the moment the upcall is entered; that costs rax and rdx, which the only
 * code it ever interrupts (bench_block() below, right after its `syscall`) does
 * not keep: the iret frame gives back rax = 0 (HV_CALL_BLOCK's result),
 * rcx and r11; rdx is bench_block()'s clobber. Then abi_event.h's protocol for the
 * one port it knows: upcall_pending = 0, pending_sel exchanged with 0, the
 * port's pending bit cleared. */
__asm__(".pushsection .text\n"
        "bench_recv_upcall:\n\t"
        "rdtsc\n\t"
        "shl $32, %rdx\n\t"
        "or %rdx, %rax\n\t"
        "mov bench_recv_shm(%rip), %rdx\n\t"
        "mov %rax, 16(%rdx)\n\t"
        "incq 24(%rdx)\n\t"
        "pushq $0\n\tpush %r11\n\tpush %rcx\n\tpushq $0\n\t"
        "mov bench_recv_vcpu(%rip), %rax\n\t"
        "movb $0, (%rax)\n\t"
        "xor %ecx, %ecx\n\t"
        "xchg %rcx, 16(%rax)\n\t"
        "mov bench_recv_word(%rip), %rax\n\t"
        "mov bench_recv_bit(%rip), %rcx\n\t"
        "lock btr %rcx, (%rax)\n\t"
        "mov $10, %eax\n\t"
        "syscall\n\t"
        "mov %rax, %rdi\n\t"
        "and $-16, %rsp\n\t"
        "call bench_recv_iret_failed\n"
        ".popsection\n");

void bench_recv_iret_failed(int64_t error)
{
    hvg_printf("bench: error name=event_cross_guest reason=\"bench-event's HV_CALL_IRET "
               "failed\" result=%lld\n", (long long)error);
    hvg_exit(1);
}


static int failed(volatile struct bench_event_shm *s, const char *why, int64_t result)
{
    if (s)
        __atomic_store_n(&s->state, BENCH_EVENT_FAILED, __ATOMIC_RELEASE);
    hvg_printf("bench: error name=event_cross_guest reason=\"bench-event: %s\" result=%lld\n",
               why, (long long)result);
    return 1;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    const struct hv_shm_info *shm = hvg_shm(BENCH_EVENT_SHM);

    (void)si;
    if (!shm || !shm->writable || shm->bytes < sizeof(struct bench_event_shm))
        return failed(NULL, "no writable [shm " BENCH_EVENT_SHM "] region", 0);
    volatile struct bench_event_shm *s = (volatile struct bench_event_shm *)(uintptr_t)shm->va;

    int64_t notice = hvg_evtchn_bind_virq(HV_VIRQ_NOTICE);
    if (notice < 0 || notice >= HV_EVTCHN_PORTS)
        return failed(s, "HV_CALL_EVTCHN_BIND_VIRQ(HV_VIRQ_NOTICE) failed", notice);
    int64_t port = hvg_evtchn_alloc_unbound("bench-main");
    if (port < 0 || port >= HV_EVTCHN_PORTS)
        return failed(s, "HV_CALL_EVTCHN_ALLOC_UNBOUND(bench-main) failed", port);
    bench_recv_shm = s;
    bench_recv_vcpu = hvg_vcpu_shared(vcpu);
    bench_recv_word = &hvg_shared()->evtchn_pending[port / 64];
    bench_recv_bit = (uint64_t)port % 64;
    int64_t r = hvg_set_upcall((uint64_t)(uintptr_t)bench_recv_upcall);
    if (r != 0)
        return failed(s, "HV_CALL_SET_UPCALL failed", r);

    s->port = (uint32_t)port;
    __atomic_store_n(&s->state, BENCH_EVENT_READY, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&s->quit, __ATOMIC_ACQUIRE) &&
           !hvg_evtchn_is_pending((unsigned)notice)) {
        r = bench_block();
        if (r != 0)
            return failed(s, "HV_CALL_BLOCK failed", r);
    }
    return 0;
}
