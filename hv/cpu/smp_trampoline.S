/* An AP's first instructions: a SIPI starts it in real mode at the low page
 * (CS = page >> 4, IP = 0), where hv/cpu/smp.c copied this and filled the
 * data block (hv/cpu/smp_trampoline.h). Real mode -> protected mode ->
 * long mode on a temporary root below 4 GiB (hv's upper half plus this page
 * alone), then on to smp_ap_entry in hv's own text, which loads hv's root:
 * the low page is never mapped in hv's tables. Assembly because no
 * compiler emits a mode switch. It runs only as a copy, never in place. */
#include "hv/cpu/smp_trampoline.h"

#define CR0_PE 0x1
#define CR0_CD_NW 0x60000000
#define CR4_PAE 0x20
#define EFER_NXE_BIT 11
#define MSR_EFER 0xc0000080
#define MSR_APIC_BASE 0x1b
#define MSR_X2APIC_ID 0x802
#define APIC_BASE_X2APIC_BIT 10
#define DATA(off) (smp_trampoline_data - smp_trampoline_start + (off))

    .section .rodata.smp_trampoline, "a"
    .balign 16
    .globl smp_trampoline_start
smp_trampoline_start:
    .code16
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    movzwl %ax, %edi
    shl $4, %edi                    /* %edi: the page's physical address */
    lgdtl DATA(TR_GDTR)
    mov %cr0, %eax
    and $~CR0_CD_NW, %eax           /* caches on: INIT left them off */
    or $CR0_PE, %eax
    mov %eax, %cr0
    ljmpl *DATA(TR_FAR32)

    .code32
    .globl smp_trampoline_protected
smp_trampoline_protected:
    mov $TR_SEL_DATA32, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    /* Only the CPU this start is for goes on: it claims the start by its
     * APIC ID (compare-exchange to TR_CLAIMED, so the boot CPU, giving up,
     * either revokes it first or knows the AP is on its way). Another
     * one is a CPU hv gave up on (its time limit passed) arriving late: a
     * virtual machine (QEMU, KVM) keeps a SIPI that came before the INIT
     * was taken, so the CPU starts after the INIT, here, while the data is
     * the next AP's (its stack, its struct: two CPUs on one stack
     * triple-faulted, a machine reset in the middle of bring-up). It
     * parks, counted, writing nothing else. */
    mov $MSR_APIC_BASE, %ecx
    rdmsr
    bt $APIC_BASE_X2APIC_BIT, %eax
    jnc 2f
    mov $MSR_X2APIC_ID, %ecx
    rdmsr
    jmp 3f
2:  and $0xfffff000, %eax           /* xAPIC: the ID register, bits 31:24 */
    mov 0x20(%eax), %eax
    shr $24, %eax
3:  mov $TR_CLAIMED, %ecx
    lock cmpxchg %ecx, DATA(TR_APIC_ID)(%edi)
    jne late
    /* A CPU without long mode or NX (hv's tables use NX bits) stops
     * here and says why; cpuid takes %ebx, the base is in %edi. */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    bt $29, %edx
    jnc no_long_mode
    mov DATA(TR_EFER)(%edi), %esi
    bt $EFER_NXE_BIT, %esi
    jnc 1f
    bt $20, %edx
    jnc no_nx
1:  mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov DATA(TR_LOW_CR3)(%edi), %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or %esi, %eax
    wrmsr
    mov DATA(TR_CR0)(%edi), %eax    /* paging on: long mode, compatibility */
    mov %eax, %cr0
    ljmpl *DATA(TR_FAR64)(%edi)

no_long_mode:
    movl $TR_STATUS_NO_LONG_MODE, DATA(TR_STATUS)(%edi)
    jmp park
no_nx:
    movl $TR_STATUS_NO_NX, DATA(TR_STATUS)(%edi)
    jmp park
late:
    lock incl DATA(TR_LATE)(%edi)
park:
    cli
    hlt
    jmp park

    .code64
    .globl smp_trampoline_long
smp_trampoline_long:
    mov %edi, %edi
    mov DATA(TR_STACK)(%rdi), %rsp
    mov DATA(TR_ARG)(%rdi), %rsi
    mov DATA(TR_HV_CR3)(%rdi), %rdx
    mov DATA(TR_ENTRY)(%rdi), %rax
    jmp *%rax                       /* the upper half: mapped in the temporary root too */

    .balign 8
    .globl smp_trampoline_data
smp_trampoline_data:
    .space TR_SIZE
    .globl smp_trampoline_end
smp_trampoline_end:

/* On the temporary root, in hv's text: switch to hv's own root (the low
 * page goes out of reach), then C on the AP's own stack. */
    .text
    .globl smp_ap_entry
    .type smp_ap_entry, @function
smp_ap_entry:
    mov %rdx, %cr3
    xor %ebp, %ebp
    push $0                         /* a zero return address ends stack traces */
    mov %rsi, %rdi
    call smp_ap_main
2:  cli
    hlt
    jmp 2b

    .section .note.GNU-stack,"",@progbits
