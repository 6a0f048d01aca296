/* The address-space tests and loads of the assembly paths
 * (vcpu/syscall_entry.S, vcpu/deliver_fast.S), one copy of each: what
 * space_loaded and space_load (hv/mm/xpti.h) do, checked against the C
 * structures in vcpu/deliver_fast.c. */
#pragma once

#include "hv/cpu/entry_flags.h"
#include "hv/cpu/percpu.h"
#include "vcpu/deliver_fast.h"

/* space_loaded: ZF set when the space whose root_phys is at \root is the
 * one loaded (hv's view: CR3's address bits, the PCID masked). \t1 and
 * \t2 are clobbered. */
.macro space_loaded_test root, t1, t2
    mov %cr3, \t1
    movabs $PTE_ADDR_BITS, \t2
    and \t2, \t1
    cmp \root, \t1
.endm

/* space_load(\s) for a mode switch, whose two spaces differ (the vCPU's
 * kernel space and one of its user spaces: \s is never the space loaded,
 * so the C function's test for it is left out; were it loaded, the write
 * would only flush). Without isolation, inline: this CPU's entry in
 * tlb_loaded_on names the space before CR3 is written (the TLB
 * shootdown's record, hv/cpu/tlb_shootdown.h), CR3 and the count of its
 * writes; rax and rcx clobbered. With isolation (its two CR3s and PCID),
 * or when this CPU's bit is not yet in the space's cpus_loaded (the
 * first load: the locked or and the APIC ID), the C function does it
 * all: with keep, rdi, rsi, rdx, r9 and r11 kept across it (RSP 16-byte
 * aligned before and after), else every caller-saved register is lost. */
.macro space_load s, keep=0
    testb $ENTRY_XPTI, entry_flags(%rip)
    jnz .Lspace_c\@
    mov %gs:PERCPU_INDEX, %eax
    lea tlb_loaded_on(%rip), %rcx
    mov \s, (%rcx,%rax,8)
    mov SPACE_CPUS_LOADED(\s), %rcx
    bt %rax, %rcx                        /* the bit index & 63, as the C */
    jnc .Lspace_c\@
    mov SPACE_ROOT(\s), %rax
    mov %rax, %cr3
    incq %gs:PERCPU_CR3_WRITES
    jmp .Lspace_done\@
.Lspace_c\@:
    .if \keep
    push %rdi
    push %rsi
    push %rdx
    push %r9
    push %r11
    push %r11                            /* RSP 16-byte aligned */
    .endif
    mov \s, %rdi
    call space_load
    .if \keep
    pop %r11
    pop %r11
    pop %r9
    pop %rdx
    pop %rsi
    pop %rdi
    .endif
.Lspace_done\@:
.endm
