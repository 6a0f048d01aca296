/* The constants and structure offsets the lean delivery in
 * vcpu/deliver_fast.S reads beyond vcpu/iret_fast.h's, checked against the
 * C structures in vcpu/deliver_fast.c (a wrong offset fails the build). */
#pragma once

#include "vcpu/iret_fast.h"

/* vcpu/deliver.h */
#define DELIVER_MASK_EVENTS_BIT 1
#define DELIVER_ERROR_CODE_BIT 2
#define HV_TRAP_MASK_EVENTS_BIT 1  /* HV_TRAP_MASK_EVENTS */
#define HV_SYSCALL_MASK_EVENTS_BIT 1 /* HV_SYSCALL_MASK_EVENTS */
#define DELIVERY_SYSCALL_NR 0x101  /* DELIVERY_SYSCALL */
/* struct vcpu */
#define VCPU_DELIVERY_RSP 248        /* arch.delivery.rsp */
#define VCPU_DELIVERY_WHAT 256       /* arch.delivery.what */
#define VCPU_TRAPS 264               /* arch.traps */
#define VCPU_KERNEL_SP 280           /* arch.kernel_sp */
#define VCPU_EV_UPCALL 328           /* ev.upcall */
#define VCPU_SYSCALL_HANDLER 272     /* arch.syscall_handler */
#define VCPU_XEN 289                 /* arch.xen */
#define VCPU_SYSCALL_FLAGS 290       /* arch.syscall_flags */
#define VCPU_USER_SPACE 292          /* arch.user_space */
/* struct guest */
#define GUEST_SPACE 104              /* space (root_phys first: GUEST_SPACE_ROOT) */
#define GUEST_USER_SPACES 1088       /* user_spaces[] */
#define GUEST_SPACE_DYING 1384       /* space_dying[] */
#define MAX_USER_SPACES 16           /* HV_MAX_USER_SPACES */
/* struct pt_space */
#define SPACE_ROOT 0                 /* root_phys */
#define SPACE_CPUS_LOADED 48         /* cpus_loaded */
/* struct percpu */
#define PERCPU_INDEX 88
/* struct trap_table: handler[32], then flags[32] */
#define TRAPS_FLAGS 256
/* struct hv_vcpu_shared */
#define SHARED_IN_USER_MODE 2
#define SHARED_CR2 8
/* struct trap_frame */
#define FRAME_ERROR (16 * 8)
/* Lowest frame address (the new rsp) at which a 40-byte frame no longer
 * lies in the lower half whole; a 48-byte frame's is 8 lower: each size
 * against its own limit (deliver_frame_fits below, the rule of both
 * deliveries). */
#define DELIVER_FRAME_LIMIT (0x0000800000000000 - 40 + 1)

/* The exceptions the lean entry takes (bits by vector): all but #DF and
 * #MC (panics), #GP (perhaps `int n`: vcpu/guest_trap.c soft_interrupt),
 * NMI and #DB (never here: the IST entries). #PF only with the error code
 * of a guest's data access (U set, I/D clear), tested apart. */
#define LEAN_VECTORS 0xfffbdef9u
/* The vectors whose frame has an error code: #DF #TS #NP #SS #GP #PF #AC
 * #CP #VC #SX (vcpu/guest_trap.c ERROR_CODE_VECTORS). */
#define ERROR_CODE_VECTOR_BITS 0x60227d00u
#define PF_ERROR_USER 4
#define PF_ERROR_FETCH 16
#define VEC_PF_NR 14
/* RFLAGS the handler is entered without: TF, NT, RF. */
#define RFLAGS_ENTRY_CLEARS 0x14100

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

/* Whether a native frame of `bytes` (40, or 48 with an error code) at
 * `frame` (the stack's 16-byte aligned top less `bytes`, wrapped to the
 * upper half when the top was lower) lies in the lower half whole: the one
 * rule of deliver_to_kernel_general (vcpu/deliver.c) and frame_body
 * (vcpu/deliver_fast.S, which compares with DELIVER_FRAME_LIMIT, 8 less
 * for 48 bytes); tests/unit/test_deliver_limit.c. */
static inline bool deliver_frame_fits(uint64_t frame, uint64_t bytes)
{
    return frame < DELIVER_FRAME_LIMIT + 40 - bytes;
}
#endif
