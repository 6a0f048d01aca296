/* The hypercall handlers, one per number of include/hv/abi.h. Each returns
 * what goes into the guest's rax. */
#pragma once

#include <stdint.h>

#include "hv/cpu/trap.h"

struct vcpu;

int64_t hc_set_trap_table(struct vcpu *v, struct trap_frame *f);
int64_t hc_set_syscall(struct vcpu *v, struct trap_frame *f);
int64_t hc_set_kernel_stack(struct vcpu *v, struct trap_frame *f);
int64_t hc_user_space_create(struct vcpu *v, struct trap_frame *f);
int64_t hc_user_space_destroy(struct vcpu *v, struct trap_frame *f);
int64_t hc_set_user_space(struct vcpu *v, struct trap_frame *f);
int64_t hc_mem_map(struct vcpu *v, struct trap_frame *f);
int64_t hc_mem_unmap(struct vcpu *v, struct trap_frame *f);
int64_t hc_mem_protect(struct vcpu *v, struct trap_frame *f);
int64_t hc_set_upcall(struct vcpu *v, struct trap_frame *f);
int64_t hc_evtchn_bind_virq(struct vcpu *v, struct trap_frame *f);
int64_t hc_evtchn_alloc_unbound(struct vcpu *v, struct trap_frame *f);
int64_t hc_evtchn_bind_peer(struct vcpu *v, struct trap_frame *f);
int64_t hc_evtchn_bind_ipi(struct vcpu *v, struct trap_frame *f);
int64_t hc_evtchn_send(struct vcpu *v, struct trap_frame *f);
int64_t hc_evtchn_close(struct vcpu *v, struct trap_frame *f);
int64_t hc_evtchn_unmask(struct vcpu *v, struct trap_frame *f);
int64_t hc_evtchn_status(struct vcpu *v, struct trap_frame *f);
int64_t hc_block(struct vcpu *v, struct trap_frame *f);
int64_t hc_poll(struct vcpu *v, struct trap_frame *f);
int64_t hc_set_timer(struct vcpu *v, struct trap_frame *f);
int64_t hc_console_read(struct vcpu *v, struct trap_frame *f);
int64_t hc_health_read(struct vcpu *v, struct trap_frame *f);
