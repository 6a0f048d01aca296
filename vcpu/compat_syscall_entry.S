/* MSR_CSTAR's target: `syscall` executed in compatibility mode (32-bit code
 * under a 64-bit kernel). No guest can get there today: hv's GDT holds no
 * 32-bit code segment a guest may load (hv/cpu/gdt.c), and Xen's
 * FLAT_RING3_CS32 (0xe023) stays not present. But CSTAR is the CPU's
 * choice, not hv's: left at the firmware's value (0 on QEMU) a compat-mode
 * syscall would run ring 0 at whatever it points to, with the guest's RSP
 * and GS. So it points here, and this ends the guest that reached it with
 * a named reason; a Xen guest's syscall32 callback can take its place
 * later (docs/plans/xen-personality.md, R4).
 *
 * The entry is syscall_entry's (vcpu/syscall_entry.S) without its fast
 * path: swapgs, off the guest's stack (and tables, with isolation), a
 * struct trap_frame with its own vector in the vCPU's own frame, registers
 * cleared, then C on hv's stack. It
 * returns through trap_return (iretq) to whatever vCPU runs next. */
#include "hv/cpu/gdt.h"
#include "hv/cpu/frame_asm.h"
#include "hv/cpu/percpu.h"

#define VEC_COMPAT_SYSCALL 0x103 /* hv/cpu/trap.h */

    .section .text.guest_entry, "ax", @progbits
    .globl compat_syscall_entry
    .type compat_syscall_entry, @function
compat_syscall_entry:
    swapgs
    clac_if_smap
    mov %rsp, %gs:PERCPU_USER_RSP
    testb $ENTRY_XPTI, entry_flags(%rip)
    jz 1f
    mov %gs:PERCPU_KERNEL_CR3, %rsp /* RSP is the one free register */
    mov %rsp, %cr3
    incq %gs:PERCPU_CR3_WRITES
1:
    mov %gs:PERCPU_KERNEL_RSP, %rsp
    .globl compat_syscall_entry_on_hv_stack
compat_syscall_entry_on_hv_stack:   /* end of the window with the guest's RSP */
    pushq $SEL_USER_DATA            /* ss */
    pushq %gs:PERCPU_USER_RSP       /* rsp */
    pushq %r11                      /* rflags, as syscall saved them */
    pushq $SEL_USER_CODE            /* cs: ring 3, so the exit swaps GS back */
    pushq %rcx                      /* rip */
    pushq $0                        /* error code */
    pushq $VEC_COMPAT_SYSCALL
    push_gprs
    movq $0, %gs:PERCPU_USER_RSP
    clear_gprs_if_on
    cld
    xor %ebp, %ebp
    mov %rsp, %rdi                  /* the vCPU's own frame (percpu kernel_rsp) */
    mov %gs:PERCPU_STACK_TOP, %rsp
    call compat_syscall_end_guest
    jmp trap_return_frame
    .size compat_syscall_entry, . - compat_syscall_entry

    .section .note.GNU-stack,"",@progbits
