/* QEMU's TCG (7.2, and others) performs the stack accesses of a ring-3
 * `iretq`, and of an interrupt delivered through a ring-3 gate, as
 * supervisor accesses; with SMAP on they fault on the guest's own stack
 * (a #PF from ring 3 with the U/S bit clear). Hardware never does this. So
 * guests' native `iretq` and the fast system-call gate keep working there,
 * hv completes the instruction the way the CPU should have. It enters hv,
 * which hardware would not: the fast path costs a trap under such an
 * emulator, and docs/design.md says so. */
#pragma once

#include <stdbool.h>

#include "hv/cpu/trap.h"

struct vcpu;

/* True if f was that emulator artefact and has been completed. */
bool smap_quirk_complete(struct vcpu *v, struct trap_frame *f, uint64_t cr2);
