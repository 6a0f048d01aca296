/* Exceptions raised by guest code. A guest fault ends that guest with a
 * report naming the exception; it never reaches hv's own fault path. */
#pragma once

#include "hv/cpu/trap.h"

struct vcpu;

void guest_exception(struct vcpu *v, struct trap_frame *f);
