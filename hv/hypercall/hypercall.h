/* Hypercall dispatch: number in rax, arguments in rdi, rsi, rdx, r10, r8,
 * r9, result in rax (include/hv/abi.h). */
#pragma once

#include "hv/cpu/trap.h"

struct vcpu;

void hypercall_dispatch(struct vcpu *v, struct trap_frame *f);
