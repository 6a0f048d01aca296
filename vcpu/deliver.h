/* Delivering to the guest kernel what a real CPU would deliver to a
 * kernel: exceptions, `int n`, system calls from user mode; and the way
 * back, HV_CALL_IRET (include/hv/abi_cpu.h). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/cpu/trap.h"

struct vcpu;

/* Enters `handler` in guest kernel mode with the native frame of the
 * interrupted state in f (switching to the kernel's page tables and stack
 * when v was in user mode). If that is impossible (no kernel stack, the
 * stack not writable, the handler not mapped executable) the guest ends
 * with a report naming `what`, and false is returned. */
bool deliver_to_kernel(struct vcpu *v, struct trap_frame *f, uint64_t handler, bool mask_events,
                       bool push_error, uint64_t error, const char *what);

/* HV_CALL_IRET: the frame is at the guest's rsp. Returns the rax to put in
 * f, or a negative error with f unchanged. */
int64_t vcpu_iret(struct vcpu *v, struct trap_frame *f, int *error);

/* Switches v between guest kernel and user mode (CR3, shared page flag). */
void vcpu_set_user_mode(struct vcpu *v, bool user);
