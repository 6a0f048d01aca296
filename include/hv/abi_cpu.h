/* The paravirtual CPU, ABI version 1 (part of include/hv/abi.h; see
 * docs/abi.md). Guests run at ring 3 and register with hv what a kernel
 * would put in its IDT and MSRs: exception handlers, a system-call entry and
 * a stack for entries from user mode.
 *
 * Two ring-3 code selectors tell the guest where an exception came from, as
 * a native kernel tells ring 0 from ring 3 by CS: HV_KERNEL_CS when the
 * vCPU ran in guest kernel mode, HV_USER_CS in guest user mode. */
#pragma once

#include <stdint.h>

#define HV_KERNEL_CS 0x23
#define HV_USER_CS 0x3b
#define HV_DATA_SS 0x1b

/* --- trap table ------------------------------------------------------------
 * One entry per vector: exceptions 0..31 reach the handler when the guest
 * raises them; any vector may be raised with `int n` when the entry allows
 * the mode the guest is in. The table belongs to the calling vCPU. A handler
 * of 0 removes the entry. */
#define HV_TRAP_MASK_EVENTS 0x01 /* events are masked while the handler runs */
#define HV_TRAP_USER_INT 0x02    /* guest user mode may raise it with `int n` (kernel mode always may) */
#define HV_TRAP_FAST 0x04        /* direct: a DPL-3 trap gate to the handler while this vCPU
                                  * runs; hv is not entered (vector HV_FAST_TRAP_VECTOR only) */

#define HV_FAST_TRAP_VECTOR 0x80

struct hv_trap_info {
    uint8_t vector;
    uint8_t flags;
    uint16_t reserved0; /* must be 0 */
    uint32_t reserved1; /* must be 0 */
    uint64_t handler;   /* lower-half address, 0 to remove */
};

/* How a handler is entered (not for HV_TRAP_FAST, which the CPU does):
 *   - in guest kernel mode on the current stack, from guest user mode on the
 *     kernel stack (HV_CALL_SET_KERNEL_STACK), after aligning it to 16 bytes,
 *     the native 64-bit frame is pushed: ss, rsp, rflags, cs, rip and, for
 *     the vectors where the CPU pushes one, the error code; rflags.IF in the
 *     frame is the inverse of the event mask at the time (the virtual IF);
 *   - rip = handler, in guest kernel mode, TF clear, events masked if the
 *     entry says so; all other registers as they were;
 *   - for #PF, the faulting address is in the vCPU's `cr2` in the shared
 *     page before the handler runs.
 * Guest kernel code must not use a red zone (as for any kernel on bare
 * metal): the frame is written right below the interrupted code's rsp.
 * A handler returns with `iretq` (to the same mode, no hypercall) or with
 * HV_CALL_IRET (any mode, restores the event mask). */

/* --- system calls from guest user mode --------------------------------------
 * `syscall` in guest user mode does not reach hv's hypercalls: hv switches
 * the vCPU to guest kernel mode, its page tables and kernel stack, pushes the
 * native frame (ss, rsp, rflags, cs = HV_USER_CS, rip after the syscall) and
 * enters `handler` with all registers as the application left them (rcx and
 * r11 hold the return rip and rflags, as the instruction defines). */
#define HV_SYSCALL_MASK_EVENTS 0x01

/* --- returning: HV_CALL_IRET --------------------------------------------------
 * The frame is at the guest's rsp (push flags, r11, rcx, rax in that order on
 * top of a native frame, then call). rax, rcx and r11 come back from it,
 * every other register stays as it is. cs selects the mode: HV_KERNEL_CS or
 * HV_USER_CS (then the user space chosen with HV_CALL_SET_USER_SPACE, which
 * must exist). rflags.IF sets the event mask (IF = 1: unmasked). */
struct hv_iret_frame {
    uint64_t rax, rcx, r11, flags; /* flags: 0, reserved */
    uint64_t rip, cs, rflags, rsp, ss;
};

/* --- memory operations -----------------------------------------------------
 * `space` 0 is the guest kernel's address space, 1.. a user space. Pages are
 * 4 KiB, va page-aligned, below HV_GUEST_MAP_LIMIT. src_va 0 maps fresh,
 * zeroed pages charged to the guest's memory allowance; otherwise the pages
 * already mapped at src_va.. in the kernel space are mapped again (the same
 * memory, shared). Writable and executable together is refused (W^X holds
 * per frame, across all mappings), and so is anything above a mapping's
 * maximum protections (an alias takes its source's). The calls return how
 * many pages they dealt with; see the bounds below. */
#define HV_PROT_READ 0x1
#define HV_PROT_WRITE 0x2
#define HV_PROT_EXEC 0x4
#define HV_SPACE_KERNEL 0
#define HV_MAX_USER_SPACES 16
#define HV_GUEST_MAP_LIMIT 0x00007fff00000000ULL
/* Bounded work (docs/abi.md, "Memory operations"): one HV_CALL_MEM_MAP or
 * HV_CALL_MEM_PROTECT handles at most this many pages (never past the end
 * of a 2 MiB-aligned block), all or none, and returns how many it handled;
 * the caller calls again for the rest. Fresh pages are zeroed, so their
 * batch is smaller. hv runs these calls with interrupts off: every size
 * here keeps one call under about 5 000 instructions, so a guest's timer
 * waits at most that long behind another guest's memory call
 * (docs/benchmarks.md, timer_late_under_attack). */
#define HV_MEM_BATCH_PAGES 4
#define HV_MEM_FRESH_BATCH_PAGES 2
/* One HV_CALL_MEM_UNMAP visits at most this many page-table entries (a
 * mapped page costs HV_MEM_UNMAP_PAGE_COST of them) and returns how many
 * pages of the range it dealt with, mapped or not. */
#define HV_MEM_UNMAP_BUDGET 128
#define HV_MEM_UNMAP_PAGE_COST 16
/* HV_CALL_USER_SPACE_DESTROY: the space is partly torn down; call again
 * with the same handle (it can no longer be used for anything else). */
#define HV_CONTINUE 1
/* A frame may have at most this many writable mappings, and as many
 * executable ones (-HV_ENOMEM past it). */
#define HV_FRAME_MAX_MAPPINGS 65535

/* --- the shared page ------------------------------------------------------------
 * One page per guest at hv_start_info.shared_va, read-write to the guest. */
#define HV_MAX_VCPUS 16

struct hv_vcpu_shared {
    uint8_t upcall_pending; /* events wait for delivery (abi_event.h) */
    uint8_t upcall_mask;    /* the virtual IF, inverted: 1 = events masked */
    uint8_t in_user_mode;   /* informative: 1 while the vCPU runs in user mode */
    uint8_t pad[5];
    uint64_t cr2;           /* the faulting address of the last #PF delivered */
    uint64_t pending_sel;   /* bit w: word w of evtchn_pending has events for this vCPU */
    /* A measurement aid (make bench), 0 unless hv.cfg sets
     * measure_cr3_writes: the CR3 writes hv has made on this vCPU's CPU,
     * as of the vCPU's last HV_CALL_VCPU_INFO (page-table isolation costs
     * two per guest entry; docs/benchmarks.md). */
    uint64_t cr3_writes;
};

#include "abi_event.h" /* beside this file */

struct hv_shared_info {
    struct hv_vcpu_shared vcpu[HV_MAX_VCPUS];
    uint64_t evtchn_pending[HV_EVTCHN_WORDS];
    uint64_t evtchn_mask[HV_EVTCHN_WORDS];
    struct hv_time_info time;
    struct hv_runstate runstate[HV_MAX_VCPUS];
};
