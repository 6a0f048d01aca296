/* What a host thread waiting for one of hv's locks does between looks
 * (SPIN_RELAX, hv/cpu/spinlock.h): yields, in tests/unit/host_relax.c (a
 * file of its own: hv's sched.h has a sched_yield of its own). Threads
 * stand in for CPUs but can be preempted, and a ticket lock whose next
 * holder is preempted stalls every other waiter a whole time slice. */
#pragma once

void host_spin_relax(void);
#define SPIN_RELAX() host_spin_relax()
