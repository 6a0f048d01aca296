/* Delivering to the guest kernel what a real CPU would deliver to a
 * kernel: exceptions, `int n`, system calls from user mode; and the way
 * back, HV_CALL_IRET (include/hv/abi_cpu.h). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/cpu/trap.h"

struct vcpu;

/* How deliver_to_kernel delivers: flags, and what is delivered (for the
 * report if it fails): an exception's vector (0-31) or one of the
 * DELIVERY_* below, in bits 8 and up. */
#define DELIVER_MASK_EVENTS (1u << 0) /* upcall_mask = 1 */
#define DELIVER_ERROR_CODE (1u << 1)  /* push f->error_code below rip */
#define DELIVER_WHAT(what) ((uint32_t)(what) << 8)
#define DELIVERY_INT_N 0x100
#define DELIVERY_SYSCALL 0x101
#define DELIVERY_UPCALL 0x102

/* Enters `handler` in guest kernel mode with the native frame of the
 * interrupted state in f (switching to the kernel's page tables and stack
 * when v was in user mode). If that is impossible (no kernel stack, the
 * stack not writable) the guest ends with a report naming what `how`
 * delivers, and false is returned. Whether the handler is mapped
 * executable is left to the guest's own fetch: see
 * deliver_fetch_failed. */
bool deliver_to_kernel(struct vcpu *v, struct trap_frame *f, uint64_t handler, uint32_t how);
/* deliver_to_kernel is vcpu/deliver_fast.S's lean path; these are its C
 * side (vcpu/deliver.c): the general path it hands over to before any
 * effect (a Xen vCPU, tracing, the kernel's space not loaded, no kernel
 * stack), the switch to kernel mode of an entry from user mode, and the
 * report of a frame it cannot write (true never: the guest ended). */
bool deliver_to_kernel_general(struct vcpu *v, struct trap_frame *f, uint64_t handler,
                               uint32_t how);
void deliver_enter_kernel_mode(struct vcpu *v);
bool deliver_stack_unwritable(struct vcpu *v, uint32_t what, uint64_t sp);

/* A #PF (address cr2) in guest kernel mode on fetching the first
 * instruction of the handler the last delivery entered, before anything
 * else ran: the delivery failed (the handler is not mapped executable).
 * The guest ends with the report an unmapped handler always had ("fault
 * while delivering WHAT: the handler is not mapped executable at ...") and
 * true is returned; otherwise false (an ordinary #PF). */
bool deliver_fetch_failed(struct vcpu *v, const struct trap_frame *f, uint64_t cr2);

/* HV_CALL_IRET (a hypercall handler): the frame is at the guest's rsp.
 * Returns the rax to put in f, or a negative error with f unchanged. */
int64_t vcpu_iret(struct vcpu *v, struct trap_frame *f);

