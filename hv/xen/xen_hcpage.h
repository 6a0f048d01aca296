/* The hypercall page hv writes into a Xen PV guest at load (the page its
 * XEN_ELFNOTE_HYPERCALL_PAGE names). Pure code. */
#pragma once

#include <stdint.h>

/* Fills page[0, 4096): 128 stubs of 32 bytes in Xen's 64-bit shape, stub
 * i at 32 * i, the rest of each stub int3 (0xcc):
 *   i != 23: push %rcx; push %r11; mov $i, %eax; syscall; pop %r11;
 *            pop %rcx; ret      (rcx and r11 survive the call)
 *   i == 23 (iret, jumped to with the frame on the stack; no return):
 *            push %rcx; push %r11; push %rax; mov $23, %eax; syscall */
void xen_hypercall_page_fill(uint8_t *page);
