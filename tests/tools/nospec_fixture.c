/* Fixture for tests/tools/check_nospec.py --self-test (never compiled):
 * each line marked BAD is a Spectre v1 gadget the check must report, each
 * marked GOOD a clamped use it must accept. */
#include "lib/nospec.h"

int64_t checked_then_indexed(struct vcpu *v, struct trap_frame *f)
{
    uint64_t i = f->rdi;
    if (i >= COUNT)
        return -HV_EINVAL;
    return table[i]; /* BAD: checked, not clamped */
}

int64_t checked_in_one_condition(struct guest *g, uint64_t h)
{
    if (h > MAX || !g->spaces[h]) /* BAD: read inside the check itself */
        return -HV_EINVAL;
    return 0;
}

int64_t register_as_index(struct vcpu *v, struct trap_frame *f)
{
    return v->guest->vcpus[f->rsi]->id; /* BAD: a guest register, unchecked */
}

int64_t shared_field_as_index(struct guest *g)
{
    return g->evtchn[g->shared->vcpu[0].pending_sel].state; /* BAD: a shared field */
}

bool word_of_a_port(struct guest *g, unsigned port)
{
    return port < PORTS && (g->bits[port / 64] & 1); /* BAD: port / 64 */
}

uint64_t through_a_pointer(struct guest *g, uint64_t *port)
{
    if (*port >= PORTS)
        return 0;
    return g->evtchn[*port].state; /* BAD: *port */
}

uint64_t a_field_of_a_copy(struct table *t, const struct entry *e)
{
    if (e->vector < EXCEPTIONS)
        t->handler[e->vector] = e->handler; /* BAD: e->vector */
    return 0;
}

uint64_t ternary_bound(const struct table *t, unsigned vector)
{
    return vector < 256 ? t->slot[vector] : 0; /* BAD: the ternary is a check too */
}

int64_t clamped_in_place(struct vcpu *v, uint64_t port)
{
    if (port >= PORTS)
        return -HV_EINVAL;
    port = array_index_nospec(port, PORTS);
    return v->guest->evtchn[port].state + v->guest->bits[port / 64]; /* GOOD */
}

int64_t clamped_with_a_cast(unsigned virq)
{
    if (virq >= VIRQS)
        return 0;
    virq = (unsigned)array_index_nospec(virq, VIRQS);
    return ports[virq]; /* GOOD */
}

int64_t clamped_in_the_subscript(struct vcpu *v, struct trap_frame *f)
{
    if (f->rdi >= v->guest->vcpu_count)
        return -HV_EINVAL;
    return v->guest->vcpus[array_index_nospec(f->rdi, v->guest->vcpu_count)]->id; /* GOOD */
}

int64_t clamped_through_a_pointer(struct guest *g, uint64_t *port)
{
    if (*port >= PORTS)
        return 0;
    *port = array_index_nospec(*port, PORTS);
    return g->evtchn[*port].state; /* GOOD */
}

int64_t clamped_a_copy(struct table *t, const struct entry *e)
{
    if (e->vector < EXCEPTIONS) {
        unsigned vector = (unsigned)array_index_nospec(e->vector, EXCEPTIONS);
        t->handler[vector] = e->handler; /* GOOD: a new name for the clamped value */
    }
    return 0;
}

int64_t loop_counter(struct guest *g)
{
    int64_t sum = 0;
    for (uint32_t i = 0; i < g->vcpu_count; i++)
        sum += g->vcpus[i]->id; /* GOOD: a loop counter, not a chosen value */
    return sum;
}

int64_t sign_check(struct guest *g)
{
    int64_t p = alloc_port(g);
    if (p < 0)
        return p;
    return g->evtchn[p].state; /* GOOD: a sign check of hv's own result */
}

int64_t unrelated_value(struct guest *g, uint64_t n, uint64_t k)
{
    if (n > LIMIT)
        return 0;
    return g->table[k]; /* GOOD: k was never compared */
}
