/* The run-state times of a vCPU in its guest's shared page: the guest's
 * virtual time (include/hv/abi_event.h). */
#pragma once

#include <stdint.h>

struct vcpu;

void runstate_enter(struct vcpu *v, uint32_t state, uint64_t now);
