/* bench-main: the measuring guest of `make bench` (docs/benchmarks.md).
 *
 * Every figure is a row of `figures[]` (or of `no_smap_figures[]`, the
 * table of bench/run.py's boot without SMAP): a sample function that times
 * one run of the path with a pair of rdtsc and returns the TSC delta. The
 * harness (measure()) takes the warm-up samples, then the kept ones, sorts
 * them and prints one line per figure:
 *
 *     bench: name=N unit=U tsc_median=M tsc_min=m tsc_max=X iterations=I warmup=W events=E target=T
 *
 * tsc_* are TSC cycles per sample with the median of an empty rdtsc pair
 * (`rdtsc_pair`, measured the same way, first) already subtracted; a sample
 * covers `events` occurrences of the path (a ping-pong sample is 2
 * switches). bench/run.py divides by `events`, and by 8 under -icount
 * shift=3, where the TSC advances exactly 8 per instruction. A figure in ns
 * (timer_deadline_late) samples ns itself and prints median=/min=/max=
 * instead, nothing subtracted. A path that fails prints
 * `bench: error name=N reason="R" result=E` and the guest exits with 1.
 *
 * Adding a figure: write a sample function (time the path between
 * bench_tsc() calls, nothing else) and add its row. */
#include "hvg.h"
#include "hvg_event.h"

#include "bench/guests/bench.h"
#include "bench/guests/bench_clock.h"
#include "lib/bench_work.h"
#include "lib/fmt.h"
#include "lib/string.h"

HV_GUEST_NOTE("bench-main", 0, 1, 0);

#define SAMPLES_MAX 4096
#define SAMPLE_FAILED UINT64_MAX

/* rdtsc with the 64-bit assembly inside the asm, so every sample function
 * pays the same fixed instructions around its body: rdtsc, shl, or, and the
 * move that saves the first reading (measured by sample_empty). */
static inline __attribute__((always_inline)) uint64_t bench_tsc(void)
{
    uint64_t t;

    __asm__ volatile("rdtsc\n\tshl $32, %%rdx\n\tor %%rdx, %%rax" : "=a"(t) : : "rdx");
    return t;
}

struct figure {
    const char *name;
    const char *unit;          /* of the figure per event, under -icount */
    uint64_t target;           /* per event, in unit; 0: bench/run.py judges it */
    uint64_t (*sample)(void);  /* one timed run: a TSC delta, or SAMPLE_FAILED */
    unsigned events;           /* occurrences of the path in one sample */
    unsigned warmup;           /* 0: BENCH_WARMUP */
    unsigned iterations;       /* 0: BENCH_ITERATIONS */
    /* Optional: run before the warm-up and after the last sample; a
     * non-NULL result is the reason the figure is broken. */
    const char *(*before)(void);
    const char *(*after)(void);
};

/* A figure in ns (timer_deadline_late) has samples in ns already, not TSC
 * deltas: no baseline is subtracted, and its line says median=/min=/max=
 * instead of tsc_*=, which bench/run.py takes as they are. */
static bool in_unit(const struct figure *f)
{
    return strcmp(f->unit, "ns") == 0;
}

/* Why the last sample failed (a hypercall's result), for the error line. */
static int64_t last_result;

/* --- rdtsc_pair: the cost every other sample pays for being timed -------- */

static uint64_t __attribute__((noinline)) sample_empty(void)
{
    uint64_t t0 = bench_tsc();
    return bench_tsc() - t0;
}

/* --- hypercall_null: syscall -> hv dispatch of HV_CALL_NOP -> sysret ----- */

static uint64_t __attribute__((noinline)) sample_hypercall_null(void)
{
    uint64_t t0 = bench_tsc();
    int64_t r = hvg_hypercall0(HV_CALL_NOP);
    uint64_t t1 = bench_tsc();

    last_result = r;
    return r == 0 ? t1 - t0 : SAMPLE_FAILED;
}

/* --- hypercall_console_64b: one whole 64-byte line through console_write - */

static const char console_line[] =
    "hypercall_console_64b: 64 bytes through HV_CALL_CONSOLE_WRITE..\n";
_Static_assert(sizeof(console_line) - 1 == 64, "the console figure writes 64 bytes");

/* The console's rate limit (docs/abi.md) counts output bytes: this line is
 * 78 on the serial line ("[bench-main] ", 64 bytes, CR LF), and after a
 * 2 KiB burst a guest may write 10,080 a second, one such line per 7.74 ms.
 * Each sample first waits that long (untimed) since the last, so every
 * timed call is taken whole. */
#define CONSOLE_LINE_INTERVAL_NS 8000000ull
static uint64_t console_next_ns;

static uint64_t __attribute__((noinline)) sample_console_64b(void)
{
    while (hvg_now() < console_next_ns)
        hvg_yield();
    uint64_t t0 = bench_tsc();
    int64_t r = hvg_console_write(console_line, 64);
    uint64_t t1 = bench_tsc();
    console_next_ns = hvg_now() + CONSOLE_LINE_INTERVAL_NS;

    /* -HV_EAGAIN (the rate limit) breaks the figure: a refused write costs
     * far less than a taken one and would pull the median down. */
    last_result = r;
    return r == 64 ? t1 - t0 : SAMPLE_FAILED;
}

/* --- vcpu_switch: yield to bench-peer, which yields straight back -------- */

static uint64_t guests_running(void)
{
    struct hv_guest_info info;

    if (hvg_guest_info(&info) != 0)
        return 0;
    return info.guests_running;
}

/* bench-event (event_cross_guest's receiver, boot a only) is alive too, but
 * blocked since before we first ran: it never takes a yield. */
static unsigned blocked_event_peer(void);

static const char *vcpu_switch_before(void)
{
    /* Exactly the two of us runnable, or a yield would land somewhere else. */
    return guests_running() == 2 + blocked_event_peer()
               ? NULL : "bench-peer is not the only other guest running";
}

static const char *vcpu_switch_after(void)
{
    /* Releases the peer's last yield; it exits, and we are alone again. */
    hvg_yield();
    return guests_running() == 1 + blocked_event_peer()
               ? NULL : "bench-peer did not end in lockstep";
}

static uint64_t __attribute__((noinline)) sample_vcpu_switch(void)
{
    uint64_t t0 = bench_tsc();
    int64_t r = hvg_yield();
    uint64_t t1 = bench_tsc();

    last_result = r;
    return r == 0 ? t1 - t0 : SAMPLE_FAILED;
}

/* --- cpu_workload: lib/bench_work.c in ring 3, compared by bench/run.py with
 * hv's native run of the same object code ------------------------------- */

static uint32_t workload_crc;

static uint64_t __attribute__((noinline)) sample_workload(void)
{
    uint64_t t0 = bench_tsc();
    uint32_t crc = bench_workload(BENCH_WORK_ROUNDS);
    uint64_t t1 = bench_tsc();

    workload_crc = crc;
    return t1 - t0;
}

/* --- the paravirtual CPU (include/hv/abi_cpu.h) ------------------------------
 * The handlers are the least a guest kernel's handler can be, in asm: move
 * the return past the instruction where needed, then return. Returning
 * through HV_CALL_IRET (what a real handler does: it restores the event mask
 * and can change mode) pushes struct hv_iret_frame's flags, r11, rcx and rax
 * on top of the native frame and makes the hypercall, which comes back only
 * with an error. The SDK's C-handler stubs (guest/lib/trap_entry.S) would add
 * their register saving and C dispatch to every figure. */
_Static_assert(HV_CALL_IRET == 10, "the handlers below hard-code HV_CALL_IRET");
_Static_assert(HV_FAST_TRAP_VECTOR == 0x80, "sample_syscall_fast raises int $0x80");

void bench_ud_iret(void), bench_ud_iretq(void), bench_pf_iret(void), bench_fast_iretq(void),
    bench_syscall_iret(void);
void bench_iret_failed(int64_t error);
/* The #PF handler reads cr2 from the shared page (bench_cr2_slot) and
 * leaves it in bench_pf_cr2 for the sample to check. */
volatile uint64_t *bench_cr2_slot;
volatile uint64_t bench_pf_cr2;

#define IRET_FRAME "pushq $0\n\tpush %r11\n\tpush %rcx\n\tpush %rax\n\t"
#define IRET_CALL "mov $10, %eax\n\tsyscall\n\tmov %rax, %rdi\n\tand $-16, %rsp\n\t" \
                  "call bench_iret_failed\n"
__asm__(".pushsection .text\n"
        /* #UD: past the 2-byte ud2, back through HV_CALL_IRET or iretq. */
        "bench_ud_iret:\n\taddq $2, (%rsp)\n\t" IRET_FRAME IRET_CALL
        "bench_ud_iretq:\n\taddq $2, (%rsp)\n\tiretq\n"
        /* #PF: drop the error code, skip the 2-byte load, note cr2. */
        "bench_pf_iret:\n\tadd $8, %rsp\n\taddq $2, (%rsp)\n\t" IRET_FRAME
        "mov bench_cr2_slot(%rip), %rax\n\tmov (%rax), %rax\n\tmov %rax, bench_pf_cr2(%rip)\n\t"
        IRET_CALL
        /* The fast gate: the CPU's own frame, the CPU's own return. */
        "bench_fast_iretq:\n\tiretq\n"
        /* `syscall` from user mode: rcx and r11 hold the return rip and
         * rflags; give them and rax back unchanged, to user mode. */
        "bench_syscall_iret:\n\t" IRET_FRAME IRET_CALL
        ".popsection\n");

void bench_iret_failed(int64_t error)
{
    hvg_printf("bench: error name=HV_CALL_IRET reason=\"a handler's return failed\" "
               "result=%lld\n", (long long)error);
    hvg_exit(1);
}

static const char *set_trap(unsigned vector, uint8_t flags, void (*handler)(void))
{
    struct hv_trap_info t = { .vector = (uint8_t)vector, .flags = flags,
                              .handler = (uint64_t)(uintptr_t)handler };

    last_result = hvg_set_trap_table(&t, 1);
    return last_result == 0 ? NULL : "HV_CALL_SET_TRAP_TABLE failed";
}

/* --- trap_ud_roundtrip(_iretq): ud2 -> hv -> the #UD handler -> past it ---- */

static const char *ud_iret_before(void)
{
    return set_trap(HVG_UD, HV_TRAP_MASK_EVENTS, bench_ud_iret);
}

static const char *ud_iretq_before(void)
{
    /* iretq cannot unmask events, so the handler runs with them unmasked. */
    return set_trap(HVG_UD, 0, bench_ud_iretq);
}

static const char *trap_after(unsigned vector)
{
    if (hvg_shared()->vcpu[0].upcall_mask)
        return "events stayed masked after the handlers returned";
    return set_trap(vector, 0, NULL);
}

static const char *ud_after(void)
{
    return trap_after(HVG_UD);
}

static uint64_t __attribute__((noinline)) sample_trap_ud(void)
{
    uint64_t t0 = bench_tsc();
    __asm__ volatile("ud2" : : : "memory");
    uint64_t t1 = bench_tsc();

    return t1 - t0;
}

/* --- trap_pf_roundtrip: a load from an unmapped page -> hv -> the #PF
 * handler (cr2 from the shared page) -> past the load ---------------------- */

#define UNMAPPED_VA 0x1000 /* below HV_GUEST_IMAGE_MIN: never mapped */

static const char *pf_before(void)
{
    bench_cr2_slot = &hvg_shared()->vcpu[0].cr2;
    return set_trap(HVG_PF, HV_TRAP_MASK_EVENTS, bench_pf_iret);
}

static const char *pf_after(void)
{
    return trap_after(HVG_PF);
}

static uint64_t __attribute__((noinline)) sample_trap_pf(void)
{
    uint64_t va = UNMAPPED_VA;
    uint32_t value;

    bench_pf_cr2 = 0;
    __asm__ volatile("" : "+S"(va)); /* the address in place before the first rdtsc */
    uint64_t t0 = bench_tsc();
    /* Always the 2 bytes 8b 06, which the handler skips. */
    __asm__ volatile("movl (%%rsi), %%eax" : "=a"(value) : "S"(va) : "memory");
    uint64_t t1 = bench_tsc();

    (void)value;
    last_result = (int64_t)bench_pf_cr2;
    return bench_pf_cr2 == UNMAPPED_VA ? t1 - t0 : SAMPLE_FAILED;
}

/* --- syscall_fast: int $0x80 through the vCPU's DPL-3 gate -> iretq --------
 * No hv on the path, which the vCPU's hv_entries shows: read before the
 * first and after the last call, less the reading hypercall itself. Only in
 * boot d: under QEMU with SMAP, hv completes both halves (vcpu/smap_quirk.c). */

static uint64_t fast_entries_start, fast_hv_entries;

static uint64_t hv_entries(void)
{
    struct hv_vcpu_info info = { 0 };

    last_result = hvg_vcpu_info(0, &info);
    return info.hv_entries;
}

static const char *fast_before(void)
{
    const char *why = set_trap(HV_FAST_TRAP_VECTOR, HV_TRAP_FAST, bench_fast_iretq);

    fast_entries_start = hv_entries();
    return why ? why : last_result ? "HV_CALL_VCPU_INFO failed" : NULL;
}

static const char *fast_after(void)
{
    fast_hv_entries = hv_entries() - fast_entries_start - 1;
    if (last_result)
        return "HV_CALL_VCPU_INFO failed";
    return set_trap(HV_FAST_TRAP_VECTOR, 0, NULL);
}

static uint64_t __attribute__((noinline)) sample_syscall_fast(void)
{
    uint64_t t0 = bench_tsc();
    __asm__ volatile("int $0x80" : : : "memory");
    uint64_t t1 = bench_tsc();

    return t1 - t0;
}

/* --- syscall_bounce: `syscall` in guest user mode -> hv -> the guest kernel's
 * handler -> HV_CALL_IRET back to user mode ----------------------------------
 * The whole loop runs in user mode, once, in the figure's `before`: a user
 * space that maps this image's .user.text and .user.data at their own
 * addresses (aliases of the kernel's pages), a kernel stack and a system-call
 * handler, then in through HV_CALL_IRET (hvg_user_run) and back out with
 * int3, whose SDK handler returns to hvg_user_run's caller. The samples stay
 * in .user.data, which the kernel reads: the sample function hands them to
 * the harness in the order they were taken. */

#define BOUNCE_SAMPLES (BENCH_WARMUP + BENCH_ITERATIONS)
#define BOUNCE_NR 0x42 /* any number: the handler gives rax back unchanged */

static uint64_t HVG_USER_DATA bounce_samples[BOUNCE_SAMPLES];
static uint8_t HVG_USER_DATA __attribute__((aligned(16))) user_stack[4096];
static uint8_t __attribute__((aligned(16))) kernel_stack[16384]; /* entries from user mode */
static struct hvg_user_context user_context;
static unsigned bounce_next;

static void HVG_USER_TEXT __attribute__((noreturn)) user_syscall_loop(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        uint64_t nr = BOUNCE_NR;
        uint64_t t0 = bench_tsc();
        __asm__ volatile("syscall" : "+a"(nr) : : "rcx", "r11", "memory");
        uint64_t t1 = bench_tsc();
        bounce_samples[i] = nr == BOUNCE_NR ? t1 - t0 : SAMPLE_FAILED;
    }
    __asm__ volatile("int3"); /* to user_loop_done */
    __builtin_unreachable();
}

static void user_loop_done(struct hvg_trap_frame *f)
{
    hvg_user_return(f, &user_context, 0);
}

static int64_t alias_into(int64_t space, const char *start, const char *end, uint64_t prot)
{
    uint64_t va = (uint64_t)(uintptr_t)start;
    return hvg_mem_map((uint64_t)space, va, (uint64_t)(end - start) / 4096, va, prot);
}

static const char *bounce_before(void)
{
    const struct hvg_trap_spec done = { HVG_BP, 0, user_loop_done };
    int64_t space = hvg_user_space_create();

    if ((last_result = space) < 0)
        return "HV_CALL_USER_SPACE_CREATE failed";
    if ((last_result = alias_into(space, hvg_user_text_start, hvg_user_text_end,
                                  HV_PROT_READ | HV_PROT_EXEC)) != 0 ||
        (last_result = alias_into(space, hvg_user_data_start, hvg_user_data_end,
                                  HV_PROT_READ | HV_PROT_WRITE)) != 0)
        return "HV_CALL_MEM_MAP failed";
    if ((last_result = hvg_set_user_space((uint64_t)space)) != 0 ||
        (last_result = hvg_set_kernel_stack((uint64_t)(uintptr_t)(kernel_stack +
                                                                  sizeof(kernel_stack)))) != 0 ||
        (last_result = hvg_set_syscall((uint64_t)(uintptr_t)bench_syscall_iret, 0)) != 0 ||
        (last_result = hvg_traps_install(&done, 1)) != 0)
        return "registering the entries from user mode failed";
    /* rsp as after a call, as the C ABI expects at a function's entry. */
    last_result = hvg_user_run(&user_context, (uint64_t)(uintptr_t)user_syscall_loop,
                               (uint64_t)(uintptr_t)(user_stack + sizeof(user_stack)) - 8,
                               BOUNCE_SAMPLES);
    bounce_next = 0;
    return last_result == 0 ? NULL : "the user-mode loop did not come back";
}

static uint64_t __attribute__((noinline)) sample_syscall_bounce(void)
{
    return bounce_next < BOUNCE_SAMPLES ? bounce_samples[bounce_next++] : SAMPLE_FAILED;
}

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

static const char *self_before(void)
{
    self_port = hvg_evtchn_bind_ipi(0);
    if (bad_port(self_port))
        return "HV_CALL_EVTCHN_BIND_IPI(0) failed";
    event_targets(self_port);
    if (hvg_vcpu_shared(0)->upcall_mask)
        return "events are masked";
    return set_upcall(bench_self_upcall);
}

static const char *self_after(void)
{
    return event_done(self_port);
}

static uint64_t __attribute__((noinline)) sample_event_self(void)
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

static const char *cross_before(void)
{
    if (!(event_peer = event_peer_waiting()))
        return "bench-event is not waiting in [shm " BENCH_EVENT_SHM "]";
    cross_port = hvg_evtchn_bind_peer(BENCH_EVENT_GUEST, event_peer->port);
    return bad_port(cross_port) ? "HV_CALL_EVTCHN_BIND_PEER(bench-event) failed" : NULL;
}

static unsigned blocked_event_peer(void)
{
    return event_peer_waiting() && !event_peer_released ? 1 : 0;
}

/* Lets bench-event end: `quit`, then one more event. Also at the end of
 * main, whatever broke before. */
static const char *release_event_peer(void)
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

static const char *cross_after(void)
{
    const char *why = release_event_peer();

    if (why)
        return why;
    /* It ran at once (woken, first in the queue) and ended. */
    return guests_running() == 1 ? NULL : "bench-event did not end";
}

static uint64_t __attribute__((noinline)) sample_event_cross(void)
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

static const char *timer_before(void)
{
    timer_port = hvg_evtchn_bind_virq(HV_VIRQ_TIMER);
    if (bad_port(timer_port))
        return "HV_CALL_EVTCHN_BIND_VIRQ(HV_VIRQ_TIMER) failed";
    event_targets(timer_port);
    hvg_events_mask(0);
    return set_upcall(bench_timer_upcall);
}

static const char *timer_after(void)
{
    /* Nothing pending, so unmasking makes no hypercall, and the handler
     * never interrupts anything but bench_block(). */
    if (hvg_vcpu_shared(0)->upcall_pending)
        return "the upcalls left the event pending";
    hvg_events_unmask(0);
    return event_done(timer_port);
}

static uint64_t __attribute__((noinline)) sample_timer_late(void)
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

/* Which boot this is: only boot d's CPU has no SMAP. */
static bool cpu_has_smap(void)
{
    uint32_t a = 0, b, c = 0, d;

    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    if (a < 7)
        return false;
    a = 7;
    c = 0;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return (b >> 20) & 1;
}

/* --- the table ------------------------------------------------------------
 * Order matters: vcpu_switch first, while bench-peer has not yet had a
 * slice of its own (the lockstep count assumes every one of its yields
 * answers one of ours). */
static const struct figure figures[] = {
    { "vcpu_switch", "instructions", 400, sample_vcpu_switch, 2, VCPU_SWITCH_WARMUP,
      VCPU_SWITCH_ITERATIONS, vcpu_switch_before, vcpu_switch_after },
    { "hypercall_null", "instructions", 60, sample_hypercall_null, 1, 0, 0, NULL, NULL },
    /* 16 + 1000 lines of 64 bytes, one per 8 ms (the console's rate). */
    { "hypercall_console_64b", "instructions", 600, sample_console_64b, 1, 16, 0, NULL, NULL },
    { "cpu_workload", "instructions", 0, sample_workload, 1, 1, 5, NULL, NULL },
    /* The paravirtual CPU, after everything above so nothing it registers
     * (trap entries, a user space) is there while those are measured. */
    { "trap_ud_roundtrip", "instructions", 150, sample_trap_ud, 1, 0, 0, ud_iret_before,
      ud_after },
    { "trap_ud_roundtrip_iretq", "instructions", 150, sample_trap_ud, 1, 0, 0, ud_iretq_before,
      ud_after },
    { "trap_pf_roundtrip", "instructions", 200, sample_trap_pf, 1, 0, 0, pf_before, pf_after },
    /* All BOUNCE_SAMPLES samples are taken in bounce_before. */
    { "syscall_bounce", "instructions", 250, sample_syscall_bounce, 1, BENCH_WARMUP,
      BENCH_ITERATIONS, bounce_before, NULL },
    /* Events, last: each registers an upcall entry and a port, and removes
     * them after; event_cross_guest's `after` lets bench-event end, so the
     * timer's vCPU blocks in an otherwise idle system. */
    { "event_self", "instructions", 200, sample_event_self, 1, 0, 0, self_before, self_after },
    { "event_cross_guest", "instructions", 600, sample_event_cross, 1, 0, 0, cross_before,
      cross_after },
    { "timer_deadline_late", "ns", 3000, sample_timer_late, 1, 0, 0, timer_before, timer_after },
};

/* The table of bench/run.py's boot d, whose CPU model has no SMAP (-cpu
 * max,smap=off): bench-main runs this one instead when CPUID shows no SMAP. */
static const struct figure no_smap_figures[] = {
    { "syscall_fast", "instructions", 10, sample_syscall_fast, 1, BENCH_WARMUP, BENCH_ITERATIONS,
      fast_before, fast_after },
};

/* --- the harness ----------------------------------------------------------- */

static uint64_t samples[SAMPLES_MAX];

static void sort(uint64_t *a, unsigned n)
{
    /* Shell sort (Ciura's gaps, then 3x+1): no recursion, no allocation. */
    static const unsigned gaps[] = { 1750, 701, 301, 132, 57, 23, 10, 4, 1 };
    for (unsigned g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
        unsigned gap = gaps[g];
        for (unsigned i = gap; i < n; i++) {
            uint64_t v = a[i];
            unsigned j = i;
            for (; j >= gap && a[j - gap] > v; j -= gap)
                a[j] = a[j - gap];
            a[j] = v;
        }
    }
}

struct result {
    uint64_t median, min, max;
    unsigned iterations;
    uint64_t cr3_per_100_samples; /* hv's CR3 writes, per 100 samples */
};

/* hv's CR3 writes on this CPU so far: a fresh copy in the shared page, made
 * by HV_CALL_VCPU_INFO (0 unless hv.cfg measure_cr3_writes = yes). Two
 * reads in a row differ by what the reading itself costs, cr3_read_cost. */
static uint64_t cr3_read_cost;
static bool cr3_shown; /* hv shows them: else no figure pays for the reads */

static uint64_t cr3_writes(void)
{
    struct hv_vcpu_info info;

    if (hvg_vcpu_info(0, &info) != 0)
        return 0;
    return hvg_vcpu_shared(0)->cr3_writes;
}

static uint64_t cr3_writes_if_shown(void)
{
    return cr3_shown ? cr3_writes() : 0;
}

static uint64_t less_baseline(uint64_t v, uint64_t baseline)
{
    return v > baseline ? v - baseline : 0;
}

/* Takes the samples of one figure; NULL on success, else why it broke. */
static const char *measure(const struct figure *f, uint64_t baseline, struct result *out)
{
    unsigned warmup = f->warmup ? f->warmup : BENCH_WARMUP;
    unsigned n = f->iterations ? f->iterations : BENCH_ITERATIONS;
    const char *why;

    if (n > SAMPLES_MAX)
        return "more iterations than SAMPLES_MAX";
    /* From before `before`: syscall_bounce takes its samples there. */
    uint64_t cr3_start = cr3_writes_if_shown();
    if (f->before && (why = f->before()) != NULL)
        return why;
    for (unsigned i = 0; i < warmup + n; i++) {
        uint64_t t = f->sample();
        if (t == SAMPLE_FAILED)
            return "the path returned an error";
        if (i >= warmup)
            samples[i - warmup] = t;
    }
    uint64_t cr3_spent = cr3_writes_if_shown() - cr3_start;
    cr3_spent = cr3_spent > cr3_read_cost ? cr3_spent - cr3_read_cost : 0;
    out->cr3_per_100_samples = cr3_spent * 100 / (warmup + n);
    if (f->after && (why = f->after()) != NULL)
        return why;
    sort(samples, n);
    if (in_unit(f))
        baseline = 0;
    out->median = less_baseline(samples[(n - 1) / 2], baseline);
    out->min = less_baseline(samples[0], baseline);
    out->max = less_baseline(samples[n - 1], baseline);
    out->iterations = n;
    return NULL;
}

static void print_result(const struct figure *f, const struct result *r)
{
    const char *p = in_unit(f) ? "" : "tsc_"; /* TSC deltas, or values in unit */

    char cr3[32] = "";

    if (cr3_shown) /* one line: the console cuts lines at 160 bytes */
        fmt_format(cr3, sizeof(cr3), " cr3=%llu.%02llu",
                   (unsigned long long)(r->cr3_per_100_samples / 100),
                   (unsigned long long)(r->cr3_per_100_samples % 100));
    hvg_printf("bench: name=%s unit=%s %smedian=%llu %smin=%llu %smax=%llu "
               "iterations=%u warmup=%u events=%u target=%llu%s\n",
               f->name, f->unit, p, (unsigned long long)r->median, p, (unsigned long long)r->min,
               p, (unsigned long long)r->max, r->iterations, f->warmup ? f->warmup : BENCH_WARMUP,
               f->events, (unsigned long long)f->target, cr3);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    const struct figure empty = { "rdtsc_pair", "instructions", 0, sample_empty, 1, 0, 0,
                                  NULL, NULL };
    struct result baseline;
    unsigned failures = 0;

    (void)si;
    (void)vcpu;
    uint64_t first = cr3_writes(); /* hv's first switch to us wrote CR3 */
    cr3_shown = first != 0;
    cr3_read_cost = cr3_shown ? cr3_writes() - first : 0;
    /* The baseline itself is not reduced by anything. */
    if (measure(&empty, 0, &baseline) != NULL)
        return 1;

    /* Nothing is printed until every figure is measured: printing costs
     * console tokens that hypercall_console_64b needs. */
    bool smap = cpu_has_smap();
    const struct figure *table = smap ? figures : no_smap_figures;
    enum { MAX = sizeof(figures) / sizeof(figures[0]) };
    unsigned n = smap ? MAX : sizeof(no_smap_figures) / sizeof(no_smap_figures[0]);
    _Static_assert(sizeof(no_smap_figures) <= sizeof(figures), "results[] holds either table");
    struct result results[MAX];
    const char *errors[MAX];
    int64_t error_results[MAX];
    for (unsigned i = 0; i < n; i++) {
        last_result = 0;
        errors[i] = measure(&table[i], baseline.median, &results[i]);
        error_results[i] = last_result;
        if (errors[i])
            failures++;
    }

    /* bench-event must not outlive us, whatever broke before. */
    if (smap) {
        const char *why = release_event_peer();
        if (why) {
            hvg_printf("bench: error name=event_cross_guest reason=\"%s\" result=%lld\n", why,
                       (long long)last_result);
            failures++;
        }
    }

    print_result(&empty, &baseline);
    for (unsigned i = 0; i < n; i++) {
        if (errors[i])
            hvg_printf("bench: error name=%s reason=\"%s\" result=%lld\n", table[i].name,
                       errors[i], (long long)error_results[i]);
        else
            print_result(&table[i], &results[i]);
    }
    if (smap)
        hvg_printf("bench: name=cpu_workload_check rounds=%u crc=0x%08x\n", BENCH_WORK_ROUNDS,
                   workload_crc);
    else
        hvg_printf("bench: name=syscall_fast_hv_entries entries=%llu calls=%u\n",
                   (unsigned long long)fast_hv_entries, BENCH_WARMUP + BENCH_ITERATIONS);
    hvg_printf("bench: done failures=%u\n", failures);
    return failures ? 1 : 0;
}
