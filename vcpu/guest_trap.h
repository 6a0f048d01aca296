/* Exceptions raised by guest code. A guest fault ends that guest with a
 * report naming the exception; it never reaches hv's own fault path. */
#pragma once

#include "hv/cpu/trap.h"

struct vcpu;

/* f->vector < 32: delivered to the guest's handler, or the guest ends. */
void guest_exception(struct vcpu *v, struct trap_frame *f);

/* hv/cpu/isr.S's entry for an exception from a guest (vector < 32, none
 * of the IST vectors: those come through trap_dispatch): trap_dispatch's
 * work for exactly that case, without its triage (#DB, NMI, hv's own
 * faults, interrupts), and the return's check inline. */
void guest_exception_entry(struct trap_frame *f);
