/* Hypercall entry set-up and the C side of the entry. */
#pragma once

#include "hv/cpu/trap.h"

void syscall_init(void);
void hypercall_entry(struct trap_frame *f);
