#include "vcpu/trap_table.h"

#include "lib/nospec.h"

#define KNOWN_FLAGS (HV_TRAP_MASK_EVENTS | HV_TRAP_USER_INT | HV_TRAP_FAST)

static bool entry_valid(const struct hv_trap_info *e)
{
    if (e->reserved0 || e->reserved1 || (e->flags & ~KNOWN_FLAGS))
        return false;
    /* Lower half only: a guest handler can never be an hv address, and a
     * canonical one, so returning there can never fault in ring 0. */
    if (e->handler >= HV_GUEST_LOWER_HALF_END)
        return false;
    if (e->flags & HV_TRAP_FAST)
        return e->vector == HV_FAST_TRAP_VECTOR && e->handler != 0;
    return true;
}

static int set_soft(struct trap_table *t, const struct hv_trap_info *e)
{
    unsigned slot = t->soft_slot[e->vector];
    if (slot) {
        unsigned i = slot - 1;
        if (e->handler) {
            t->soft[i].handler = e->handler;
            t->soft[i].flags = e->flags;
        } else {
            /* The last one moves into the hole. */
            t->soft[i] = t->soft[--t->soft_count];
            t->soft_slot[t->soft[i].vector] = (uint8_t)(i + 1);
            t->soft_slot[e->vector] = 0;
        }
        return 0;
    }
    if (!e->handler)
        return 0;
    if (t->soft_count == TRAP_SOFT_MAX)
        return -HV_ENOMEM;
    t->soft[t->soft_count].vector = e->vector;
    t->soft[t->soft_count].flags = e->flags;
    t->soft[t->soft_count].handler = e->handler;
    t->soft_count++;
    t->soft_slot[e->vector] = t->soft_count;
    return 0;
}

static int apply(struct trap_table *t, const struct hv_trap_info *e)
{
    if (e->flags & HV_TRAP_FAST) {
        t->fast_handler = e->handler;
        return 0;
    }
    if (e->vector < TRAP_EXCEPTIONS) {
        /* The guest wrote the vector: clamped (Spectre v1). */
        unsigned vector = (unsigned)array_index_nospec(e->vector, TRAP_EXCEPTIONS);
        t->handler[vector] = e->handler;
        t->flags[vector] = e->handler ? e->flags : 0;
        return 0;
    }
    /* A non-fast entry for the fast vector also takes its gate away. */
    if (e->vector == HV_FAST_TRAP_VECTOR)
        t->fast_handler = 0;
    return set_soft(t, e);
}

int trap_table_step(struct trap_table *next, const struct hv_trap_info *entries, size_t n,
                    bool *nomem)
{
    for (size_t i = 0; i < n; i++) {
        if (!entry_valid(&entries[i]))
            return -HV_EINVAL;
        if (!*nomem && apply(next, &entries[i]) != 0)
            *nomem = true; /* the rest is only checked: an invalid entry still wins */
    }
    return 0;
}

int trap_table_update(struct trap_table *t, const struct hv_trap_info *entries, size_t n)
{
    struct trap_table next = *t;
    bool nomem = false;
    int rc = trap_table_step(&next, entries, n, &nomem);
    if (rc)
        return rc;
    if (nomem)
        return -HV_ENOMEM;
    *t = next;
    return 0;
}

bool trap_table_lookup(const struct trap_table *t, unsigned vector, uint64_t *handler,
                       uint8_t *flags)
{
    /* The vector of `int n` is the guest's choice (vcpu/guest_trap.c):
     * clamped after each check (Spectre v1). */
    if (vector < TRAP_EXCEPTIONS) {
        vector = (unsigned)array_index_nospec(vector, TRAP_EXCEPTIONS);
        if (!t->handler[vector])
            return false;
        *handler = t->handler[vector];
        *flags = t->flags[vector];
        return true;
    }
    unsigned slot = vector < 256 ? t->soft_slot[array_index_nospec(vector, 256)] : 0;
    if (!slot)
        return false;
    *handler = t->soft[slot - 1].handler;
    *flags = t->soft[slot - 1].flags;
    return true;
}
