/* The constants and structure offsets the HV_CALL_IRET fast path in
 * vcpu/syscall_entry.S reads, checked against the C structures in
 * vcpu/iret_fast.c (a wrong offset fails the build, not a guest). */
#pragma once

#define HV_CALL_IRET_NR 10           /* HV_CALL_IRET */
#define HV_KERNEL_CS_SEL 0x23        /* HV_KERNEL_CS */
#define HV_DATA_SS_SEL 0x1b          /* HV_DATA_SS */
#define HV_USER_CS_SEL 0x3b          /* HV_USER_CS */
#define IRET_FRAME_BYTES 72          /* struct hv_iret_frame */
/* Lowest address above every frame that lies in the lower half. */
#define IRET_FRAME_LIMIT (0x0000800000000000 - IRET_FRAME_BYTES + 1)
/* struct hv_iret_frame */
#define IRET_RAX 0
#define IRET_RCX 8
#define IRET_R11 16
#define IRET_FLAGS 24
#define IRET_RIP 32
#define IRET_CS 40
#define IRET_RFLAGS 48
#define IRET_RSP 56
#define IRET_SS 64

/* struct percpu */
#define PERCPU_CURRENT 80
#define PERCPU_NEED_RESCHED 104
#define PERCPU_SLICE_CUT 105
#define PERCPU_IRET_C_PATH 160       /* entry.iret_c_path */
/* struct vcpu */
#define VCPU_ID 0
#define VCPU_GUEST 8
#define VCPU_STATE 4
#define VCPU_REGS 48                 /* arch.regs: the running vCPU's frame */
#define VCPU_DELIVERY_RIP 240
#define VCPU_USER_MODE 288
#define VCPU_HV_ENTRIES 296
/* struct guest */
#define GUEST_SPACE_ROOT 104         /* space.root_phys */
#define GUEST_SHARED 1240
/* struct hv_vcpu_shared, by vcpu[id] of the shared page */
#define SHARED_VCPU_SHIFT 5
#define SHARED_UPCALL_PENDING 0
#define SHARED_UPCALL_MASK 1

#define PTE_ADDR_BITS 0x000ffffffffff000
#define RFLAGS_GUEST_BITS 0x00240fd5 /* RFLAGS_GUEST_MASK */
#define RFLAGS_ALWAYS 0x202          /* IF and the reserved bit 1 */
#define RFLAGS_IF_BIT 9

/* Frame offsets (struct trap_frame). */
#define FRAME_R11 (4 * 8)
#define FRAME_RCX (12 * 8)
#define FRAME_RAX (14 * 8)
#define FRAME_VECTOR (15 * 8)
#define FRAME_RIP (17 * 8)
#define FRAME_CS (18 * 8)
#define FRAME_RFLAGS (19 * 8)
#define FRAME_RSP (20 * 8)
#define FRAME_SS (21 * 8)
#define VEC_GUEST_BOUNCE_NR 0x102

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Non-zero: every HV_CALL_IRET takes the C path (vcpu_iret). Set at boot
 * by hv.cfg `debug_slow_iret` (the tests compare both paths) and by
 * anything that must see every iret in C (a trace that records them). */
extern uint8_t iret_fast_off;
#endif
