/* Events and time for guests (guest/include/hvg_event.h): time from the
 * shared page, the virtual interrupt flag, the upcall dispatcher, sleeping
 * on the timer, shared-memory look-up. */
#include "hvg_event.h"

#include "lib/string.h"

/* guest/lib/event_entry.S hard-codes these. */
_Static_assert(HVG_VECTOR_UPCALL == 0x101, "event_entry.S: HVG_VECTOR_UPCALL");
_Static_assert(HV_MAX_VCPUS == 16, "event_entry.S: one upcall stub per vCPU");
_Static_assert(HV_EVTCHN_WORDS <= 64, "pending_sel has one bit per word");

#define UPCALL_STUB_SIZE 16

extern char hvg_upcall_stubs[];

/* --- time ---------------------------------------------------------------------------- */

static inline uint64_t rdtsc_ordered(void)
{
    uint32_t lo, hi;

    /* lfence: the TSC is read after the loads before it, so it is never
     * older than the tsc_timestamp it is compared with. */
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
    return ((uint64_t)hi << 32) | lo;
}

/* abi_event.h: ((shift >= 0 ? d << shift : d >> -shift) * mul) >> 32. */
static uint64_t scale_delta(uint64_t delta, uint32_t mul, int8_t shift)
{
    __extension__ typedef unsigned __int128 u128;
    u128 d = delta;

    if (shift >= 0)
        d <<= shift < 64 ? shift : 63;
    else
        d >>= -shift < 64 ? -shift : 63;
    return (uint64_t)((d * mul) >> 32);
}

struct time_snapshot {
    uint64_t now;
    uint64_t wall_sec;
    uint32_t wall_nsec;
    bool wall_valid;
};

static struct time_snapshot read_time(void)
{
    volatile struct hv_time_info *t = &hvg_shared()->time;
    struct time_snapshot s;

    for (;;) {
        uint32_t version = __atomic_load_n(&t->version, __ATOMIC_ACQUIRE);
        if (version & 1) {
            hvg_cpu_relax(); /* hv is half-way through an update */
            continue;
        }
        uint64_t stamp = t->tsc_timestamp;
        uint64_t system = t->system_time_ns;
        uint32_t mul = t->tsc_to_ns_mul;
        int8_t shift = t->tsc_shift;
        s.wall_sec = t->wall_sec;
        s.wall_nsec = t->wall_nsec;
        s.wall_valid = t->wall_valid != 0;
        uint64_t tsc = rdtsc_ordered();
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&t->version, __ATOMIC_ACQUIRE) != version)
            continue;
        /* A TSC behind the stamp (it should never be) counts as no time. */
        s.now = system + (tsc > stamp ? scale_delta(tsc - stamp, mul, shift) : 0);
        return s;
    }
}

uint64_t hvg_now(void)
{
    return read_time().now;
}

int64_t hvg_wallclock(uint64_t *sec, uint32_t *nsec)
{
    struct time_snapshot s = read_time();

    if (!s.wall_valid) {
        *sec = 0;
        *nsec = 0;
        return -HV_ENOENT;
    }
    /* wall_nsec < 10^9 by the ABI; taking it modulo keeps a bad value from
     * producing nsec >= 10^9 all the same. */
    uint64_t ns = s.now % HVG_NS_PER_SEC + s.wall_nsec % HVG_NS_PER_SEC;
    *sec = s.wall_sec + s.now / HVG_NS_PER_SEC + ns / HVG_NS_PER_SEC;
    *nsec = (uint32_t)(ns % HVG_NS_PER_SEC);
    return 0;
}

struct hv_runstate hvg_runstate(unsigned vcpu)
{
    struct hv_runstate copy;

    memset(&copy, 0, sizeof(copy));
    if (vcpu >= HV_MAX_VCPUS)
        return copy;
    volatile struct hv_runstate *rs = &hvg_shared()->runstate[vcpu];
    for (;;) {
        uint32_t version = __atomic_load_n(&rs->version, __ATOMIC_ACQUIRE);
        if (version & 1) {
            hvg_cpu_relax();
            continue;
        }
        copy.state = rs->state;
        copy.state_entry_ns = rs->state_entry_ns;
        for (unsigned k = 0; k < 4; k++)
            copy.time_ns[k] = rs->time_ns[k];
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&rs->version, __ATOMIC_ACQUIRE) == version) {
            copy.version = version;
            return copy;
        }
    }
}

uint64_t hvg_runstate_ns(const struct hv_runstate *rs, unsigned kind, uint64_t now)
{
    if (kind >= 4)
        return 0;
    uint64_t t = rs->time_ns[kind];
    if (rs->state == kind && now > rs->state_entry_ns)
        t += now - rs->state_entry_ns;
    return t;
}

/* --- the virtual interrupt flag --------------------------------------------------- */

void hvg_events_unmask(unsigned vcpu)
{
    volatile struct hv_vcpu_shared *v = hvg_vcpu_shared(vcpu);

    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    v->upcall_mask = 0;
    /* The store must be visible before the load: hv (on another CPU one
     * day) sets upcall_pending and then looks at the mask. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (v->upcall_pending)
        hvg_hypercall0(HV_CALL_NOP); /* delivered on the way back */
}

/* --- the dispatcher ---------------------------------------------------------------------- */

struct port_handler {
    hvg_event_fn *fn;
    void *arg;
    uint32_t vcpu;  /* the vCPU the port notifies */
    bool claimed;   /* the dispatcher takes its events (fn or the SDK's timer) */
};

static struct port_handler handlers[HV_EVTCHN_PORTS];
/* Port + 1 of each vCPU's timer; 0 before hvg_events_init. */
static uint32_t timer_port_plus1[HV_MAX_VCPUS];
static uint64_t timer_count[HV_MAX_VCPUS];

static bool vcpu_valid(unsigned vcpu)
{
    return vcpu < HV_MAX_VCPUS && vcpu < hvg_start_info()->vcpu_count;
}

uint64_t hvg_upcall_stub(unsigned vcpu)
{
    if (vcpu >= HV_MAX_VCPUS)
        return 0;
    return (uint64_t)(uintptr_t)hvg_upcall_stubs + (uint64_t)vcpu * UPCALL_STUB_SIZE;
}

static void dispatch_port(unsigned port, unsigned vcpu)
{
    struct port_handler *h = &handlers[port];

    if (!__atomic_load_n(&h->claimed, __ATOMIC_ACQUIRE) || h->vcpu != vcpu)
        return; /* not ours to take: stays pending */
    hvg_evtchn_clear(port);
    /* Cleared before the callback runs, so a send during it is a new event. */
    if (timer_port_plus1[vcpu] == port + 1)
        __atomic_fetch_add(&timer_count[vcpu], 1, __ATOMIC_RELEASE);
    hvg_event_fn *fn = __atomic_load_n(&h->fn, __ATOMIC_ACQUIRE);
    if (fn)
        fn(port, vcpu, h->arg);
}

void hvg_event_upcall(struct hvg_trap_frame *f)
{
    /* The stub hv entered says which vCPU this is (error code slot). */
    unsigned vcpu = (unsigned)f->error_code;
    volatile struct hv_shared_info *sh = hvg_shared();

    if (vcpu >= HV_MAX_VCPUS)
        return;
    volatile struct hv_vcpu_shared *v = &sh->vcpu[vcpu];
    do {
        __atomic_store_n(&v->upcall_pending, 0, __ATOMIC_SEQ_CST);
        uint64_t sel = __atomic_exchange_n(&v->pending_sel, 0, __ATOMIC_SEQ_CST);
        while (sel) {
            unsigned w = (unsigned)__builtin_ctzll(sel);
            sel &= sel - 1;
            if (w >= HV_EVTCHN_WORDS)
                continue; /* hv set a bit no word has */
            uint64_t bits = __atomic_load_n(&sh->evtchn_pending[w], __ATOMIC_ACQUIRE) &
                            ~__atomic_load_n(&sh->evtchn_mask[w], __ATOMIC_ACQUIRE);
            while (bits) {
                unsigned b = (unsigned)__builtin_ctzll(bits);
                bits &= bits - 1;
                dispatch_port(w * 64 + b, vcpu);
            }
        }
    } while (__atomic_load_n(&v->upcall_pending, __ATOMIC_ACQUIRE));
}

int64_t hvg_events_init(unsigned vcpu)
{
    if (!vcpu_valid(vcpu))
        return -HV_EINVAL;
    if (timer_port_plus1[vcpu] != 0)
        return 0;
    int64_t r = hvg_set_upcall(hvg_upcall_stub(vcpu));
    if (r < 0)
        return r;
    int64_t port = hvg_evtchn_bind_virq(HV_VIRQ_TIMER);
    if (port < 0)
        return port;
    if (port >= HV_EVTCHN_PORTS)
        return -HV_EINVAL; /* hv broke the ABI; do not index with it */
    handlers[port].fn = NULL;
    handlers[port].vcpu = vcpu;
    __atomic_store_n(&handlers[port].claimed, true, __ATOMIC_RELEASE);
    __atomic_store_n(&timer_port_plus1[vcpu], (uint32_t)port + 1, __ATOMIC_RELEASE);
    return 0;
}

int64_t hvg_event_handler(unsigned port, hvg_event_fn *fn, void *arg)
{
    struct hv_evtchn_status st;

    if (port >= HV_EVTCHN_PORTS)
        return -HV_EINVAL;
    memset(&st, 0, sizeof(st));
    int64_t r = hvg_evtchn_status(port, &st);
    if (r < 0)
        return r;
    if (st.state == HV_EVTCHN_FREE || st.vcpu >= HV_MAX_VCPUS)
        return -HV_EINVAL;

    struct port_handler *h = &handlers[port];
    bool timer = false;
    for (unsigned v = 0; v < HV_MAX_VCPUS; v++)
        timer |= __atomic_load_n(&timer_port_plus1[v], __ATOMIC_ACQUIRE) == port + 1;
    /* Unclaim first so the dispatcher never pairs the new fn with the old arg. */
    if (!timer)
        __atomic_store_n(&h->claimed, false, __ATOMIC_RELEASE);
    __atomic_store_n(&h->fn, NULL, __ATOMIC_RELEASE);
    h->arg = arg;
    h->vcpu = st.vcpu;
    __atomic_store_n(&h->fn, fn, __ATOMIC_RELEASE);
    if (fn || timer)
        __atomic_store_n(&h->claimed, true, __ATOMIC_RELEASE);
    /* An event that came while nobody took it is still pending, and hv
     * told the vCPU about it already. Masking and unmasking the port has hv
     * tell it again, now that there is a callback; a port the guest has
     * masked stays so. */
    if (fn && hvg_evtchn_is_pending(port) &&
        !((__atomic_load_n(&hvg_shared()->evtchn_mask[port / 64], __ATOMIC_ACQUIRE) >>
           (port % 64)) & 1)) {
        hvg_evtchn_mask(port);
        hvg_evtchn_unmask(port);
    }
    return 0;
}

int64_t hvg_timer_port(unsigned vcpu)
{
    if (vcpu >= HV_MAX_VCPUS || timer_port_plus1[vcpu] == 0)
        return -HV_EINVAL;
    return (int64_t)timer_port_plus1[vcpu] - 1;
}

uint64_t hvg_timer_events(unsigned vcpu)
{
    return vcpu < HV_MAX_VCPUS ? __atomic_load_n(&timer_count[vcpu], __ATOMIC_ACQUIRE) : 0;
}

int64_t hvg_sleep_until(unsigned vcpu, uint64_t deadline_ns)
{
    if (!vcpu_valid(vcpu) || timer_port_plus1[vcpu] == 0)
        return -HV_EINVAL;
    if (deadline_ns == 0)
        deadline_ns = 1; /* 0 would cancel the timer: "now" is long past 1 ns */

    bool was_masked = hvg_events_mask(vcpu);
    int64_t r = 0;
    for (;;) {
        /* Counted and compared with events masked: the event cannot slip in
         * between the look and the block, and HV_CALL_BLOCK unmasks and
         * sleeps in one step, returning at once if it is already pending. */
        uint64_t seen = hvg_timer_events(vcpu);
        r = hvg_set_timer(deadline_ns);
        if (r < 0)
            break;
        while (hvg_timer_events(vcpu) == seen) {
            r = hvg_block();
            hvg_events_mask(vcpu);
            if (r < 0)
                goto out;
        }
        /* A timer event from an earlier deadline (pending while masked)
         * may have been the one counted: sleep again on this one. */
        if (hvg_now() >= deadline_ns)
            break;
    }
out:
    hvg_events_restore(vcpu, was_masked);
    return r;
}

int64_t hvg_wait(unsigned vcpu, hvg_wait_fn *done, void *arg, uint64_t deadline_ns)
{
    if (!vcpu_valid(vcpu) || timer_port_plus1[vcpu] == 0)
        return -HV_EINVAL;

    bool was_masked = hvg_events_mask(vcpu);
    uint64_t ticks = hvg_timer_events(vcpu);
    int64_t r = deadline_ns ? hvg_set_timer(deadline_ns) : 0;
    while (r == 0 && !done(arg)) {
        if (deadline_ns && hvg_now() >= deadline_ns) {
            r = -HV_ETIMEDOUT;
            break;
        }
        /* A timer event that came before the deadline by our clock (or was
         * left from an earlier one) must not leave us without one. */
        if (deadline_ns && hvg_timer_events(vcpu) != ticks) {
            ticks = hvg_timer_events(vcpu);
            r = hvg_set_timer(deadline_ns);
            if (r < 0)
                break;
        }
        r = hvg_block();
        hvg_events_mask(vcpu);
    }
    if (deadline_ns)
        hvg_set_timer(0);
    hvg_events_restore(vcpu, was_masked);
    return r;
}

/* --- shared memory ----------------------------------------------------------------- */

const struct hv_shm_info *hvg_shm(const char *name)
{
    const struct hv_start_info *si = hvg_start_info();
    size_t len = strlen(name);

    if (len == 0 || len >= sizeof(si->shm[0].name))
        return NULL;
    for (unsigned i = 0; i < HV_MAX_SHM; i++) {
        const struct hv_shm_info *s = &si->shm[i];
        /* memcmp of len + 1 bytes: equal names, NUL included, and never a
         * read past the slot's 16 bytes. */
        if (s->va != 0 && s->bytes != 0 && memcmp(s->name, name, len + 1) == 0)
            return s;
    }
    return NULL;
}
