/* Whether a switch moves the CPU from one guest to another: the moment for
 * the barriers that keep one guest's branch predictions from steering
 * another's (IBPB, the RSB fill: hv/cpu/mitigations.h). Not between vCPUs
 * of one guest (one security domain), and not when the CPU comes back from
 * idle to the guest that ran before: nothing else ran in between.
 *
 * Guests are told apart by id, never by pointer: a guest that ended and a
 * new one made in its memory would look the same (Xen compares domain ids
 * for the same reason). Ids are never reused (hv/guest/guest.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct guest_switch {
    bool ran;            /* a guest has run on this CPU since boot */
    uint32_t last_guest; /* the id of the last one */
};

/* The CPU is about to run a vCPU of guest next_guest: true when the last
 * guest code this CPU ran (idle aside) was another guest's, or none since
 * boot (the firmware's and hv's boot predictions are not the guest's).
 * Records next_guest as the last. */
static inline bool guest_switch_crosses(struct guest_switch *s, uint32_t next_guest)
{
    bool crosses = !s->ran || s->last_guest != next_guest;
    s->ran = true;
    s->last_guest = next_guest;
    return crosses;
}
