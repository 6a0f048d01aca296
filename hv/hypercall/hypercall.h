/* Hypercall dispatch: number in rax, arguments in rdi, rsi, rdx, r10, r8,
 * r9, result in rax (include/hv/abi.h). */
#pragma once

#include <stddef.h>

#include "hv/cpu/trap.h"
#include "hv/debug/trace.h"
#include "include/hv/abi.h"
#include "lib/nospec.h"

struct vcpu;

typedef int64_t (*hypercall_fn)(struct vcpu *v, struct trap_frame *f);

/* The handlers by number (hv/hypercall/hypercall.c); NULL: none. */
extern const hypercall_fn hypercall_table[HV_CALL_COUNT];

/* Inline: the syscall entry's C side (vcpu/syscall.c) calls the handler
 * straight from the table. */
static inline void hypercall_dispatch(struct vcpu *v, struct trap_frame *f)
{
    uint64_t nr = f->rax;
    hypercall_fn fn = NULL;
    TRACE_VCPU(TR_HYPERCALL, v, nr, f->rdi);
    /* The guest chooses nr: clamped before the table is read (Spectre v1,
     * docs/design.md). */
    if (nr < HV_CALL_COUNT)
        fn = hypercall_table[array_index_nospec(nr, HV_CALL_COUNT)];
    f->rax = fn ? (uint64_t)fn(v, f) : (uint64_t)-HV_ENOSYS;
}
