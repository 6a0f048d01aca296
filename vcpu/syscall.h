/* Hypercall entry set-up and the C side of the entry. */
#pragma once

#include "hv/cpu/trap.h"

void syscall_init(void);
/* What vcpu/syscall_entry.S calls: hypercall_kernel for hv's own guests
 * in kernel mode (the entry tested that), hypercall_entry for any vCPU
 * (the Xen personality, the user-mode bounce the assembly does not take,
 * make bench's timed entry). */
void hypercall_kernel(struct trap_frame *f);
void hypercall_entry(struct trap_frame *f);
