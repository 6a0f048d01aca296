/* Hypercalls of events and time (include/hv/abi_event.h). */
#include "hv/hypercall/hypercall_table.h"

#include "guest-loader/guest_params.h"
#include "hv/console/input.h"
#include "hv/event/evtchn.h"
#include "hv/guest/console.h"
#include "hv/guest/guest.h"
#include "hv/guest/uaccess.h"
#include "hv/sched/sched.h"
#include "hv/time/time.h"
#include "lib/nospec.h"
#include "lib/string.h"
#include "vcpu/vcpu.h"

/* The guest named by a NUL-terminated string in guest memory. */
static int64_t peer_by_name(struct vcpu *v, uint64_t name_va, struct guest **out)
{
    char name[32];
    size_t n = 0;
    for (; n < sizeof(name); n++) {
        if (copy_from_guest(v->guest, &name[n], name_va + n, 1) != 0)
            return -HV_EFAULT;
        if (name[n] == '\0')
            break;
    }
    if (n == sizeof(name) || n == 0)
        return -HV_EINVAL;
    for (struct guest *g = guest_list(); g; g = g->next)
        if (g->end == GUEST_ALIVE && guest_name_equal(g->name, name)) {
            *out = g;
            return 0;
        }
    return -HV_ESRCH;
}

int64_t hc_set_upcall(struct vcpu *v, struct trap_frame *f)
{
    if (f->rdi >= HV_GUEST_LOWER_HALF_END)
        return -HV_EINVAL;
    v->ev.upcall = f->rdi;
    return 0;
}

int64_t hc_evtchn_bind_virq(struct vcpu *v, struct trap_frame *f)
{
    return evtchn_bind_virq(v, f->rdi);
}

int64_t hc_evtchn_alloc_unbound(struct vcpu *v, struct trap_frame *f)
{
    struct guest *peer;
    int64_t rc = peer_by_name(v, f->rdi, &peer);
    return rc ? rc : evtchn_alloc_unbound(v, peer);
}

int64_t hc_evtchn_bind_peer(struct vcpu *v, struct trap_frame *f)
{
    struct guest *peer;
    int64_t rc = peer_by_name(v, f->rdi, &peer);
    return rc ? rc : evtchn_bind_peer(v, peer, f->rsi);
}

int64_t hc_evtchn_bind_ipi(struct vcpu *v, struct trap_frame *f)
{
    return evtchn_bind_ipi(v, f->rdi);
}

int64_t hc_evtchn_send(struct vcpu *v, struct trap_frame *f)
{
    return evtchn_send(v, f->rdi);
}

int64_t hc_evtchn_close(struct vcpu *v, struct trap_frame *f)
{
    return evtchn_close(v, f->rdi);
}

int64_t hc_evtchn_unmask(struct vcpu *v, struct trap_frame *f)
{
    return evtchn_unmask(v, f->rdi);
}

int64_t hc_evtchn_status(struct vcpu *v, struct trap_frame *f)
{
    struct hv_evtchn_status st;
    int64_t rc = evtchn_status(v, f->rdi, &st);
    if (rc)
        return rc;
    return copy_to_guest(v->guest, f->rsi, &st, sizeof(st));
}

/* Unmasking and going to sleep are one step: an event that arrives in
 * between cannot be lost, because the check below sees its upcall flag.
 * A block that leaves one guest wanting the CPU may switch to it from
 * here (sched_handback: the way back of the direct hand-off). */
int64_t hc_block(struct vcpu *v, struct trap_frame *f)
{
    (void)f;
    struct hv_vcpu_shared *vs = &v->guest->shared->vcpu[v->id];
    vs->upcall_mask = 0;
    if (!vs->upcall_pending)
        sched_handback(v, sched_block(v, false, 0));
    return 0;
}

int64_t hc_poll(struct vcpu *v, struct trap_frame *f)
{
    uint64_t n = f->rsi, deadline = f->rdx;
    uint32_t ports[VCPU_POLL_MAX];
    if (n == 0 || n > VCPU_POLL_MAX)
        return -HV_EINVAL;
    n = array_index_nospec(n, VCPU_POLL_MAX + 1); /* sizes the loops over ports[] below */
    if (copy_from_guest(v->guest, ports, f->rdi, n * sizeof(ports[0])) != 0)
        return -HV_EFAULT;
    for (uint64_t i = 0; i < n; i++) {
        if (ports[i] >= HV_EVTCHN_PORTS)
            return -HV_EINVAL;
        if (evtchn_pending(v->guest, ports[i]))
            return 0;
    }
    if (deadline && deadline <= time_now_ns())
        return -HV_ETIMEDOUT;
    for (uint64_t i = 0; i < n; i++)
        v->ev.poll_ports[i] = (uint16_t)ports[i];
    v->ev.poll_count = (uint8_t)n;
    sched_block(v, true, deadline);
    return 0; /* -HV_ETIMEDOUT is put in place if the deadline wakes it */
}

int64_t hc_set_timer(struct vcpu *v, struct trap_frame *f)
{
    uint64_t deadline = f->rdi;
    if (deadline && deadline <= time_now_ns()) {
        sched_set_vcpu_timer(v, 0);
        evtchn_raise_virq(v, HV_VIRQ_TIMER); /* already passed: at once */
        return 0;
    }
    sched_set_vcpu_timer(v, deadline);
    return 0;
}

int64_t hc_console_read(struct vcpu *v, struct trap_frame *f)
{
    char buf[GUEST_INPUT_BYTES];
    uint64_t len = f->rsi < sizeof(buf) ? f->rsi : sizeof(buf);
    uint64_t mark;
    size_t got = guest_console_input_peek(v->guest, buf, len, &mark);
    if (got && copy_to_guest(v->guest, f->rdi, buf, got) != 0)
        return -HV_EFAULT; /* nothing taken: the bytes wait for a good buffer */
    /* Another of its vCPUs read at the same time and took them first. */
    if (got && !guest_console_input_take(v->guest, got, mark))
        return -HV_EAGAIN;
    return (int64_t)got;
}
