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

/* space_load(rdi): the switch without isolation, inline: this CPU's
 * entry in tlb_loaded_on names the space before CR3 is written (the TLB
 * shootdown's record, hv/cpu/tlb_shootdown.h), CR3 and the count of its
 * writes. With isolation (its two CR3s and PCID), or when this CPU's bit
 * is not yet in the space's cpus_loaded (the first load: the locked or
 * and the APIC ID), the C function does it all: the caller keeps nothing
 * in a caller-saved register across this. Without that call rax and rcx
 * are clobbered. RSP 16-byte aligned. */
.macro space_load_rdi
    testb $ENTRY_XPTI, entry_flags(%rip)
    jnz .Lspace_c\@
    mov %cr3, %rax
    cmp SPACE_ROOT(%rdi), %rax
    je .Lspace_done\@
    mov %gs:PERCPU_INDEX, %eax
    lea tlb_loaded_on(%rip), %rcx
    mov %rdi, (%rcx,%rax,8)
    mov SPACE_CPUS_LOADED(%rdi), %rcx
    bt %rax, %rcx                    /* the bit index & 63, as the C */
    jnc .Lspace_c\@
    mov SPACE_ROOT(%rdi), %rax
    mov %rax, %cr3
    incq %gs:PERCPU_CR3_WRITES
    jmp .Lspace_done\@
.Lspace_c\@:
    call space_load
.Lspace_done\@:
.endm
