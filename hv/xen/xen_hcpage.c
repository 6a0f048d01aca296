/* The hypercall page (hv/xen/xen_hcpage.h). Xen's convention for 64-bit
 * PV guests (public xen.h): the number in eax, arguments in rdi, rsi,
 * rdx, r10, r8, the result in rax; `syscall` itself clobbers rcx and r11,
 * which the stub saves around it. */
#include "hv/xen/xen_hcpage.h"

#include "hv/xen/xen_abi.h"
#include "lib/string.h"

void xen_hypercall_page_fill(uint8_t *page)
{
    memset(page, 0xcc, 4096);
    for (unsigned i = 0; i < XEN_HYPERCALL_STUBS; i++) {
        uint8_t *p = page + i * XEN_HYPERCALL_STUB_SIZE;
        unsigned n = 0;
        p[n++] = 0x51;                /* push %rcx */
        p[n++] = 0x41, p[n++] = 0x53; /* push %r11 */
        if (i == XEN_HC_iret)
            p[n++] = 0x50;            /* push %rax */
        p[n++] = 0xb8;                /* mov $i, %eax */
        p[n++] = (uint8_t)i, p[n++] = 0, p[n++] = 0, p[n++] = 0;
        p[n++] = 0x0f, p[n++] = 0x05; /* syscall */
        if (i == XEN_HC_iret)
            continue;
        p[n++] = 0x41, p[n++] = 0x5b; /* pop %r11 */
        p[n++] = 0x59;                /* pop %rcx */
        p[n++] = 0xc3;                /* ret */
    }
}
