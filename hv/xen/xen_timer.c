/* Time and waiting for a Xen PV vCPU (hv/xen/xen.h): set_timer_op and
 * VCPUOP's single-shot and periodic timers, SCHEDOP_block and
 * SCHEDOP_poll, and the rest of vcpu_op for its one vCPU.
 *
 * Xen gives a vCPU two timers (single-shot, periodic at 100 Hz from the
 * start) and a poll timeout; hv gives it one vCPU timer, so that timer is
 * armed for the earliest (hv/xen/xen_timers.h). It raises hv's own
 * VIRQ_TIMER port on the guest's private page, which wakes a blocked vCPU
 * and sends its return through xen_upcall (hv/xen/xen_upcall.c), where
 * xen_timers_due decides which Xen timers were due and makes the Xen
 * VIRQ_TIMER port pending. All of it is the vCPU's own state, touched only
 * in its own hypercalls and on its own return (one vCPU, on one CPU at a
 * time). */
#include "hv/event/evtchn.h"
#include "hv/guest/guest.h"
#include "hv/guest/uaccess.h"
#include "hv/mm/mm.h"
#include "hv/sched/sched.h"
#include "hv/time/time.h"
#include "hv/xen/xen.h"
#include "hv/xen/xen_2l.h"
#include "hv/xen/xen_mem.h"
#include "hv/xen/xen_timers.h"
#include "lib/nospec.h"
#include "vcpu/vcpu.h"

#define POLL_MAX_PORTS 128 /* Xen's "fairly arbitrary limit" */
#define POLL_PIECE 16      /* ports read from the guest at a time */
#define XEN_2L_MAX_PORTS 4096 /* 2-level ABI, 64-bit: ports a guest may name */

static struct xen_shared_info *xen_si(struct guest *g)
{
    return phys_to_virt(g->xen->shared_info_pa);
}

static struct xen_timers load(const struct xen_guest *x)
{
    return (struct xen_timers){x->timer_single, x->timer_period, x->timer_periodic_next,
                               x->poll_deadline};
}

static void store(struct xen_guest *x, const struct xen_timers *t)
{
    x->timer_single = t->single;
    x->timer_period = t->period;
    x->timer_periodic_next = t->periodic_next;
    x->poll_deadline = t->poll;
}

void xen_timer_event(struct vcpu *v)
{
    unsigned port = v->guest->xen->virq_port[XEN_VIRQ_TIMER];
    if (port)
        xen_2l_set_pending(xen_si(v->guest), port);
}

bool xen_timer_arm(struct vcpu *v)
{
    struct xen_guest *x = v->guest->xen;
    struct xen_timers t = load(x);
    uint64_t next = xen_timers_next(&t, x->virq_port[XEN_VIRQ_TIMER] != 0, time_now_ns());
    store(x, &t);
    /* hv's port is bound on first use and stays: only this timer raises it. */
    if (next && v->ev.virq_port[HV_VIRQ_TIMER] == NO_PORT &&
        evtchn_bind_virq(v, HV_VIRQ_TIMER) < 0) {
        sched_set_vcpu_timer(v, 0);
        return false;
    }
    sched_set_vcpu_timer(v, next);
    return true;
}

void xen_timers_due(struct vcpu *v, uint64_t now)
{
    struct xen_guest *x = v->guest->xen;
    struct xen_timers t = load(x);
    bool send = xen_timers_take_due(&t, now);
    store(x, &t);
    if (send)
        xen_timer_event(v);
    xen_timer_arm(v); /* hv's port is bound: it fired */
}

/* set_timer_op: the single-shot timer at an absolute system time (Xen's
 * rule for wrapped and far timeouts: 100 ms); one already passed sends
 * VIRQ_TIMER now; 0 cancels. */
int64_t xen_set_timer_op(struct vcpu *v, uint64_t timeout)
{
    struct xen_guest *x = v->guest->xen;
    uint64_t now = time_now_ns();
    timeout = xen_timer_deadline(timeout, now);
    x->timer_single = 0;
    if (timeout && timeout <= now)
        xen_timer_event(v);
    else
        x->timer_single = timeout;
    return xen_timer_arm(v) ? 0 : -XEN_ENOMEM;
}

/* A poll ended (woken, or its timeout passed): its timeout no longer
 * counts. Called at the vCPU's next hypercall. */
void xen_poll_end(struct vcpu *v)
{
    v->guest->xen->poll_deadline = 0;
    xen_timer_arm(v);
}

/* SCHEDOP_block: events unmasked and the vCPU asleep until one is
 * pending, in one step (an event in between is seen here). */
int64_t xen_block(struct vcpu *v)
{
    struct xen_vcpu_info *vi = &xen_si(v->guest)->vcpu_info[0];
    vi->evtchn_upcall_mask = 0;
    xen_take_hv_events(v);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!vi->evtchn_upcall_pending)
        sched_block(v, false, 0);
    return 0; /* woken: the return enters the callback (xen_upcall) */
}

/* Whether a polled port is pending: 1, 0, or -EINVAL for one that is
 * no port (past the 2-level range, or free: Xen's evtchn_port_poll).
 * Port 0 is reserved and never pending; ports hv does not give (256 and
 * up, below Xen's 4096) are free. */
static int port_poll(struct guest *g, uint32_t port)
{
    struct xen_guest *x = g->xen;
    if (port >= XEN_2L_MAX_PORTS || port >= XEN_PORTS)
        return -XEN_EINVAL;
    port = array_index_nospec(port, XEN_PORTS);
    if (port && !((x->ports[port / 64] >> (port % 64)) & 1))
        return -XEN_EINVAL;
    return (__atomic_load_n(&xen_si(g)->evtchn_pending[port / 64], __ATOMIC_SEQ_CST) >>
            (port % 64)) & 1;
}

/* SCHEDOP_poll {ports, nr_ports u32, timeout u64}: returns at once (0)
 * when an upcall is due or a listed port is pending, -EINVAL for one that
 * is not a port, -EFAULT for a list it cannot read; else the vCPU sleeps
 * until an event comes (any: Xen's poll may return early too) or the
 * absolute timeout passes (0: none), and returns 0 either way. A hostile
 * list costs at most 128 port reads, in pieces of 16. */
int64_t xen_poll(struct vcpu *v, uint64_t arg)
{
    struct guest *g = v->guest;
    struct xen_sched_poll p;
    if (arg >= HV_GUEST_LOWER_HALF_END || sizeof(p) > HV_GUEST_LOWER_HALF_END - arg ||
        copy_from_guest(g, &p, arg, sizeof(p)) != 0)
        return -XEN_EFAULT;
    if (p.nr_ports > POLL_MAX_PORTS)
        return -XEN_EINVAL;
    if (p.ports >= HV_GUEST_LOWER_HALF_END ||
        (uint64_t)p.nr_ports * 4 > HV_GUEST_LOWER_HALF_END - p.ports)
        return -XEN_EFAULT;
    struct xen_vcpu_info *vi = &xen_si(g)->vcpu_info[0];
    xen_take_hv_events(v); /* a timer that already fired */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (vi->evtchn_upcall_pending && !vi->evtchn_upcall_mask)
        return 0; /* Xen's local_events_need_delivery */
    for (uint32_t i = 0; i < p.nr_ports; i += POLL_PIECE) {
        uint32_t ports[POLL_PIECE], n = p.nr_ports - i < POLL_PIECE ? p.nr_ports - i : POLL_PIECE;
        if (copy_from_guest(g, ports, p.ports + (uint64_t)i * 4, n * 4) != 0)
            return -XEN_EFAULT;
        for (uint32_t k = 0; k < n; k++) {
            int rc = port_poll(g, ports[k]);
            if (rc)
                return rc < 0 ? rc : 0;
        }
    }
    if (p.timeout && p.timeout <= time_now_ns())
        return 0; /* Xen's poll timer in the past fires at once */
    g->xen->poll_deadline = p.timeout;
    if (!xen_timer_arm(v))
        return -XEN_ENOMEM;
    sched_block(v, false, 0);
    return 0;
}

/* VCPUOP_get_runstate_info: Xen's struct vcpu_runstate_info {int state;
 * u64 state_entry_time, time[4]} from hv's own run-state record of the
 * vCPU (hv's private page of the guest, written only by hv; the same
 * states in the same order as Xen's running/runnable/blocked/offline, the
 * same clock as its system time). Read under the record's version, as a
 * guest reads it: a few tries at most (only hv's switches of this vCPU
 * change it, and it runs here). */
static int64_t runstate_info(struct vcpu *v, uint64_t arg)
{
    struct { uint32_t state, pad; uint64_t state_entry_time, time[4]; } out = {0};
    _Static_assert(sizeof(out) == 48, "vcpu.h's struct vcpu_runstate_info");
    const struct hv_shared_info *shared = v->guest->shared;
    if (shared) {
        const volatile struct hv_runstate *rs = &shared->runstate[0];
        for (int tries = 0; tries < 4; tries++) {
            uint32_t before = __atomic_load_n(&rs->version, __ATOMIC_ACQUIRE);
            out.state = rs->state;
            out.state_entry_time = rs->state_entry_ns;
            for (int i = 0; i < 4; i++)
                out.time[i] = rs->time_ns[i];
            if (!(before & 1) && __atomic_load_n(&rs->version, __ATOMIC_ACQUIRE) == before)
                break;
        }
    }
    if (arg >= HV_GUEST_LOWER_HALF_END - sizeof(out) || !xen_mem_writable(v->guest, arg, sizeof(out)) ||
        copy_to_guest(v->guest, arg, &out, sizeof(out)) != 0)
        return -XEN_EFAULT;
    return 0;
}

/* vcpu_op(cmd, vcpuid, arg) for a guest of one vCPU, 0 (Xen's
 * common_vcpu_op): another vCPU -ENOENT; is_up 1; up 0 (it is up);
 * initialise -EEXIST (it is); down of the last vCPU shuts the guest down
 * (poweroff, as Xen); the timers; get_runstate_info; register_vcpu_info
 * and the rest -ENOSYS (a guest keeps vcpu_info in shared_info, as on Xen
 * before it). */
int64_t xen_vcpu_op(struct vcpu *v, struct trap_frame *f)
{
    struct xen_guest *x = v->guest->xen;
    uint64_t cmd = f->rdi, arg = f->rdx;
    if ((uint32_t)f->rsi != 0)
        return -XEN_ENOENT; /* Xen reads vcpuid as an int: any other is no vCPU */
    switch (cmd) {
    case XEN_VCPUOP_initialise:
        return -XEN_EEXIST;
    case XEN_VCPUOP_up:
        return 0;
    case XEN_VCPUOP_down:
        guest_end(v->guest, GUEST_EXITED, 0, "VCPUOP_down of its last vCPU: shutdown poweroff");
        return 0;
    case XEN_VCPUOP_is_up:
        return 1;
    case XEN_VCPUOP_set_periodic_timer: { /* {period_ns u64} */
        uint64_t period;
        if (arg >= HV_GUEST_LOWER_HALF_END - 8 || copy_from_guest(v->guest, &period, arg, 8) != 0)
            return -XEN_EFAULT;
        if (period < 1000000 || (int64_t)period < 0)
            return -XEN_EINVAL; /* under 1 ms, or past Xen's STIME_DELTA_MAX */
        x->timer_period = period;
        x->timer_periodic_next = 0; /* counts from now */
        return xen_timer_arm(v) ? 0 : -XEN_ENOMEM;
    }
    case XEN_VCPUOP_stop_periodic_timer:
        x->timer_period = 0;
        return xen_timer_arm(v) ? 0 : -XEN_ENOMEM;
    case XEN_VCPUOP_set_singleshot_timer: { /* {timeout_abs_ns u64, flags u32} */
        uint64_t timeout;
        if (arg >= HV_GUEST_LOWER_HALF_END - 16 || copy_from_guest(v->guest, &timeout, arg, 8) != 0)
            return -XEN_EFAULT;
        x->timer_single = 0;
        if (timeout < time_now_ns())
            xen_timer_event(v); /* passed (0 too): sent now, as Xen */
        else
            x->timer_single = timeout;
        return xen_timer_arm(v) ? 0 : -XEN_ENOMEM;
    }
    case XEN_VCPUOP_stop_singleshot_timer:
        x->timer_single = 0;
        return xen_timer_arm(v) ? 0 : -XEN_ENOMEM;
    case XEN_VCPUOP_get_runstate_info:
        return runstate_info(v, arg);
    default:
        return -XEN_ENOSYS;
    }
}
