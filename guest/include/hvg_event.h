/* hvg_event: events and time for guests (include/hv/abi_event.h is the ABI;
 * docs/writing-guests.md, "Events and time", is the guide).
 *
 * Four parts:
 *   - one wrapper per hypercall of abi_event.h (17..28);
 *   - time without hypercalls: hvg_now() (system time), hvg_wallclock(),
 *     hvg_runstate() (a vCPU's virtual time), from the shared page;
 *   - the virtual interrupt flag: hvg_events_mask / hvg_events_unmask;
 *   - a dispatcher: hvg_events_init(vcpu) registers the SDK's upcall entry
 *     for a vCPU and binds its timer, hvg_event_handler(port, fn, arg) gives
 *     a port a C callback, hvg_sleep_until(vcpu, deadline) sleeps on the
 *     timer without losing the wake-up.
 *
 * The SDK cannot tell which vCPU runs a piece of code (there is no per-vCPU
 * register a ring-3 guest may set), so, as with hvg_fault_address(), calls
 * about "this vCPU" take its number: the `vcpu` main() was given. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvg.h"

/* --- the hypercalls of abi_event.h --------------------------------------------- */

/* This vCPU's upcall entry (an address in guest kernel code). hvg_events_init
 * registers the SDK's; call this directly only with an entry of your own. */
static inline int64_t hvg_set_upcall(uint64_t entry)
{
    return hvg_hypercall1(HV_CALL_SET_UPCALL, entry);
}

/* A port for virtual interrupt source virq (enum hv_virq), notifying the
 * calling vCPU. */
static inline int64_t hvg_evtchn_bind_virq(uint64_t virq)
{
    return hvg_hypercall1(HV_CALL_EVTCHN_BIND_VIRQ, virq);
}

/* A port that guest `peer` (its name) may bind to with
 * hvg_evtchn_bind_peer(our name, port). */
static inline int64_t hvg_evtchn_alloc_unbound(const char *peer)
{
    return hvg_hypercall1(HV_CALL_EVTCHN_ALLOC_UNBOUND, (uint64_t)(uintptr_t)peer);
}

/* A port connected to port peer_port of guest `peer`, which allocated it
 * for us; -HV_ESRCH when no guest has that name. */
static inline int64_t hvg_evtchn_bind_peer(const char *peer, uint64_t peer_port)
{
    return hvg_hypercall2(HV_CALL_EVTCHN_BIND_PEER, (uint64_t)(uintptr_t)peer, peer_port);
}

/* A port whose sends notify vCPU vcpu of this guest. */
static inline int64_t hvg_evtchn_bind_ipi(uint64_t vcpu)
{
    return hvg_hypercall1(HV_CALL_EVTCHN_BIND_IPI, vcpu);
}

static inline int64_t hvg_evtchn_send(uint64_t port)
{
    return hvg_hypercall1(HV_CALL_EVTCHN_SEND, port);
}

static inline int64_t hvg_evtchn_close(uint64_t port)
{
    return hvg_hypercall1(HV_CALL_EVTCHN_CLOSE, port);
}

/* Clears the port's mask bit; hv delivers the event if it is pending. */
static inline int64_t hvg_evtchn_unmask(uint64_t port)
{
    return hvg_hypercall1(HV_CALL_EVTCHN_UNMASK, port);
}

static inline int64_t hvg_evtchn_status(uint64_t port, struct hv_evtchn_status *out)
{
    return hvg_hypercall2(HV_CALL_EVTCHN_STATUS, port, (uint64_t)(uintptr_t)out);
}

/* Unmasks this vCPU's events and sleeps until one is pending, atomically:
 * an event that arrives after the caller last looked still wakes it. The
 * upcall runs before this returns (events are unmasked when it does). */
static inline int64_t hvg_block(void)
{
    return hvg_hypercall0(HV_CALL_BLOCK);
}

/* Sleeps until one of the n ports is pending or system time reaches
 * deadline_ns: 0, or -HV_ETIMEDOUT. */
static inline int64_t hvg_poll(const uint32_t *ports, uint64_t n, uint64_t deadline_ns)
{
    return hvg_hypercall6(HV_CALL_POLL, (uint64_t)(uintptr_t)ports, n, deadline_ns, 0, 0, 0);
}

/* This vCPU's one-shot timer: HV_VIRQ_TIMER fires once system time reaches
 * deadline_ns. 0 cancels; a new deadline replaces the old one. */
static inline int64_t hvg_set_timer(uint64_t deadline_ns)
{
    return hvg_hypercall1(HV_CALL_SET_TIMER, deadline_ns);
}

/* --- time (guest/lib/event.c) -----------------------------------------------------
 * Read from the shared page with the version protocol of abi_event.h: no
 * hypercall, so cheap enough for every use. */

#define HVG_NS_PER_SEC 1000000000ull
#define HVG_MS(n) ((uint64_t)(n) * 1000000ull)
#define HVG_US(n) ((uint64_t)(n) * 1000ull)

/* Nanoseconds since hv started (system time, the timer's clock). */
uint64_t hvg_now(void);

/* UTC now: *sec since 1970-01-01T00:00:00Z and *nsec (0..999999999).
 * Returns 0, or -HV_ENOENT when the firmware gave hv no clock (then both
 * are 0). */
int64_t hvg_wallclock(uint64_t *sec, uint32_t *nsec);

/* A consistent copy of vCPU vcpu's run-state times (all zero for a vCPU
 * number out of range). */
struct hv_runstate hvg_runstate(unsigned vcpu);

/* Time spent in state `kind` (enum hv_runstate_kind) up to `now` (from
 * hvg_now()), the current stretch included when the vCPU is in that state:
 * e.g. the vCPU's virtual time is
 *     hvg_runstate_ns(&rs, HV_RUNSTATE_RUNNING, hvg_now()). */
uint64_t hvg_runstate_ns(const struct hv_runstate *rs, unsigned kind, uint64_t now);

/* --- the virtual interrupt flag and port masks -------------------------------------
 * upcall_mask and evtchn_mask live in the shared page and are the guest's to
 * write (Xen's __cli / mask_evtchn). Unmasking by a write alone would leave
 * an event that arrived meanwhile waiting for the next entry into hv, so
 * hvg_events_unmask makes a null hypercall when one is pending: hv delivers
 * on its way back. */

static inline volatile struct hv_vcpu_shared *hvg_vcpu_shared(unsigned vcpu)
{
    return &hvg_shared()->vcpu[vcpu < HV_MAX_VCPUS ? vcpu : 0];
}

/* Masks vcpu's events (cli); returns whether they were masked already. */
static inline bool hvg_events_mask(unsigned vcpu)
{
    volatile struct hv_vcpu_shared *v = hvg_vcpu_shared(vcpu);
    bool was = v->upcall_mask != 0;

    v->upcall_mask = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    return was;
}

/* Unmasks vcpu's events (sti) and has anything pending delivered now. */
void hvg_events_unmask(unsigned vcpu);

/* Puts the mask back as hvg_events_mask found it. */
static inline void hvg_events_restore(unsigned vcpu, bool was_masked)
{
    if (!was_masked)
        hvg_events_unmask(vcpu);
}

/* A port's bits in the shared page (ports out of range: no-ops, false). */
static inline void hvg_evtchn_mask(unsigned port)
{
    if (port < HV_EVTCHN_PORTS)
        __atomic_fetch_or(&hvg_shared()->evtchn_mask[port / 64], 1ull << (port % 64),
                          __ATOMIC_SEQ_CST);
}

static inline bool hvg_evtchn_is_pending(unsigned port)
{
    return port < HV_EVTCHN_PORTS &&
           (__atomic_load_n(&hvg_shared()->evtchn_pending[port / 64], __ATOMIC_ACQUIRE) >>
            (port % 64)) & 1;
}

static inline void hvg_evtchn_clear(unsigned port)
{
    if (port < HV_EVTCHN_PORTS)
        __atomic_fetch_and(&hvg_shared()->evtchn_pending[port / 64], ~(1ull << (port % 64)),
                           __ATOMIC_SEQ_CST);
}

/* --- the dispatcher (guest/lib/event.c, guest/lib/event_entry.S) -------------------
 * hv enters a vCPU's upcall entry like an interrupt, events masked. The SDK's
 * entry (one per vCPU, so the C side knows which vCPU it runs on) saves every
 * register through the trap-entry machinery of hvg_cpu.h (frame vector
 * HVG_VECTOR_UPCALL, error code = the vCPU), and the dispatcher follows
 * abi_event.h: clear upcall_pending, exchange pending_sel with 0, for each
 * selected word take pending & ~mask, and for each such port that has a
 * callback and notifies this vCPU, clear its pending bit and call the
 * callback; repeat while upcall_pending is set again. It returns with
 * HV_CALL_IRET, which unmasks and delivers what arrived meanwhile.
 *
 * Ports without a callback (and masked ports) are left pending, untouched:
 * HV_CALL_POLL or the guest's own code may want them, and registering a
 * callback later has a pending event delivered then. */

#define HVG_VECTOR_UPCALL 0x101

/* Runs in the upcall, events masked, on the stack hv delivered on. */
typedef void hvg_event_fn(unsigned port, unsigned vcpu, void *arg);

/* Registers the SDK's upcall entry for vCPU vcpu (the caller: each vCPU
 * that wants events calls it itself) and binds that vCPU's timer
 * (HV_VIRQ_TIMER; hvg_timer_port): do not bind it yourself, register a
 * callback on hvg_timer_port(vcpu) instead. Calling it again does nothing.
 * Returns 0 or the failing hypercall's error (-HV_EINVAL for a vcpu out of
 * range, -HV_EEXIST if the vCPU's timer was bound already). */
int64_t hvg_events_init(unsigned vcpu);

/* Calls fn(port, vcpu, arg) for each event on `port`, on the vCPU the port
 * notifies (HV_CALL_EVTCHN_STATUS tells the SDK which); fn NULL removes it.
 * Register before the port can fire, or mask it meanwhile: a pending event
 * is delivered as soon as the callback is in place. Returns 0, -HV_EINVAL
 * for a port out of range or one that is not bound (FREE), or the
 * status call's error. */
int64_t hvg_event_handler(unsigned port, hvg_event_fn *fn, void *arg);

/* vCPU vcpu's timer port (bound by hvg_events_init), or -HV_EINVAL before. */
int64_t hvg_timer_port(unsigned vcpu);

/* How many timer events vCPU vcpu has received (the SDK counts them whether
 * or not a callback is registered on the timer port). */
uint64_t hvg_timer_events(unsigned vcpu);

/* Sleeps until vCPU vcpu's timer event for deadline_ns (system time) has
 * arrived: sets the timer, then blocks (HV_CALL_BLOCK) until the SDK has
 * counted a timer event, checking with events masked so that none is lost
 * between the check and the block. Other events are delivered meanwhile.
 * Uses (replaces) the vCPU's timer; returns with the event mask as it was.
 * Returns 0, or the error of HV_CALL_SET_TIMER / HV_CALL_BLOCK, or
 * -HV_EINVAL before hvg_events_init(vcpu). */
int64_t hvg_sleep_until(unsigned vcpu, uint64_t deadline_ns);

/* Blocks vCPU vcpu until done(arg) holds, checking it with events masked
 * before each HV_CALL_BLOCK, so that an event whose callback makes it true
 * cannot be missed. With deadline_ns (system time) not 0, gives up then and
 * returns -HV_ETIMEDOUT; that uses (and afterwards cancels) the vCPU's
 * timer. done runs with events masked. Returns 0 when done, or a
 * hypercall's error; -HV_EINVAL before hvg_events_init(vcpu). */
typedef bool hvg_wait_fn(void *arg);
int64_t hvg_wait(unsigned vcpu, hvg_wait_fn *done, void *arg, uint64_t deadline_ns);

/* The SDK's upcall entry for vCPU vcpu (0 for vcpu >= HV_MAX_VCPUS). */
uint64_t hvg_upcall_stub(unsigned vcpu);

/* The C side of the upcall entry (called by hvg_trap_dispatch). */
void hvg_event_upcall(struct hvg_trap_frame *f);

/* --- shared memory -------------------------------------------------------------------
 * The region hv.cfg's [shm NAME] mapped into this guest (start info), or NULL. */
const struct hv_shm_info *hvg_shm(const char *name);
