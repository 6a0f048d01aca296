/* The instructions that touch guest memory directly, in the address space
 * loaded in CR3 (hv/guest/uaccess.c decides when that is allowed). Each
 * instruction that may fault on a guest address is in the exception table
 * (hv/cpu/extable.h): a #PF there resumes at uaccess_fault, which returns
 * -HV_EFAULT. The callers have checked that the guest side lies in the
 * lower half, so a guest pointer never reaches hv's own memory. With SMAP,
 * stac/clac open the guest's pages for exactly these instructions. */
#include "hv/cpu/extable.h"
#include "hv/cpu/smap_asm.h"

#define HV_EFAULT 14

    .text

/* int uaccess_copy(void *dst, const void *src, size_t n): 0 or -HV_EFAULT;
 * one side is guest memory, the other hv's. Eight bytes a step, then the
 * rest (DF is clear in hv: the entries cld). After a fault part of dst
 * may be written. */
    .globl uaccess_copy
    .type uaccess_copy, @function
uaccess_copy:
    mov %rdx, %rcx
    shr $3, %rcx
    and $7, %edx
    SMAP_STAC
.Lcopy_quads:
    rep movsq
    mov %edx, %ecx
.Lcopy_bytes:
    rep movsb
    SMAP_CLAC
    xor %eax, %eax
    ret
    .size uaccess_copy, . - uaccess_copy
    EXTABLE_ENTRY .Lcopy_quads, uaccess_fault
    EXTABLE_ENTRY .Lcopy_bytes, uaccess_fault

/* int uaccess_probe_write(uint64_t va): 0 if the guest byte at va is
 * writable now, else -HV_EFAULT. An atomic OR of 0: a write access that
 * changes nothing, even if another vCPU writes the byte meanwhile. */
    .globl uaccess_probe_write
    .type uaccess_probe_write, @function
uaccess_probe_write:
    SMAP_STAC
.Lprobe:
    lock orb $0, (%rdi)
    SMAP_CLAC
    xor %eax, %eax
    ret
    .size uaccess_probe_write, . - uaccess_probe_write
    EXTABLE_ENTRY .Lprobe, uaccess_fault

/* The fixup of every entry above: the fault handler has cleared AC in the
 * frame already (extable_fixup), so SMAP is on again here. */
    .type uaccess_fault, @function
uaccess_fault:
    mov $-HV_EFAULT, %eax
    ret
    .size uaccess_fault, . - uaccess_fault

    .section .note.GNU-stack,"",@progbits
