/* The constants and structure offsets the lean delivery in
 * vcpu/deliver_fast.S reads beyond vcpu/iret_fast.h's, checked against the
 * C structures in vcpu/deliver_fast.c (a wrong offset fails the build). */
#pragma once

#include "vcpu/iret_fast.h"

/* vcpu/deliver.h */
#define DELIVER_MASK_EVENTS_BIT 1
#define DELIVER_ERROR_CODE_BIT 2
#define HV_TRAP_MASK_EVENTS_BIT 1  /* HV_TRAP_MASK_EVENTS */
/* struct vcpu */
#define VCPU_DELIVERY_RSP 248        /* arch.delivery.rsp */
#define VCPU_DELIVERY_WHAT 256       /* arch.delivery.what */
#define VCPU_TRAPS 264               /* arch.traps */
#define VCPU_KERNEL_SP 280           /* arch.kernel_sp */
#define VCPU_EV_UPCALL 328           /* ev.upcall */
/* struct trap_table: handler[32], then flags[32] */
#define TRAPS_FLAGS 256
/* struct hv_vcpu_shared */
#define SHARED_CR2 8
/* struct trap_frame */
#define FRAME_ERROR (16 * 8)
/* Lowest frame address (the new rsp) at which a 48-byte frame no longer
 * lies in the lower half whole: both frame sizes are checked against it. */
#define DELIVER_FRAME_LIMIT (0x0000800000000000 - 48 + 1)

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
