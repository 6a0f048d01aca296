/* A guest kernel stack that runs off its mapping while hv bounces a trap
 * onto it: hv writes the 40-byte #UD frame below rsp directly, the write
 * faults in hv, the exception table turns that into an error, and the
 * guest ends with hv's "fault while delivering" report; hv does not
 * panic. The stack is one page at STACK_PAGE,
 * rsp 16 bytes above its bottom, so the frame straddles the bottom. Chosen
 * by the guest's name (the system test copies the image):
 *   uaccess-stack-unmapped   the page below the stack is not mapped
 *   uaccess-stack-readonly   the page below is mapped read-only
 * Reaching the end prints "FAILED: survived" and exits 1. */
#include "pv_common.h"

HV_GUEST_NOTE("", HVG_MIB(1), 1, 0);

#define STACK_PAGE 0x0000520000000000ull
#define FILL 0xa5

static void on_trap(struct hvg_trap_frame *f)
{
    hvg_trap_dump("uaccess-stack: a trap was delivered although its stack ran out", f);
    hvg_exit(2);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    pv_name = si->name;
    bool read_only_below = strcmp(si->name, "uaccess-stack-readonly") == 0;
    struct hvg_trap_spec specs[32];
    for (unsigned v = 0; v < 32; v++)
        specs[v] = (struct hvg_trap_spec){ v, 0, on_trap };
    if (hvg_traps_install(specs, 32) != 0)
        hvg_printf("%s: registering the trap table failed\n", pv_name);
    if (hvg_mem_map(HV_SPACE_KERNEL, STACK_PAGE, 1, 0, HV_PROT_READ | HV_PROT_WRITE) != 0)
        hvg_printf("%s: mapping the stack page failed\n", pv_name);
    memset((void *)(uintptr_t)STACK_PAGE, FILL, PAGE);
    if (read_only_below &&
        (hvg_mem_map(HV_SPACE_KERNEL, STACK_PAGE - PAGE, 1, 0, HV_PROT_READ) != 0))
        hvg_printf("%s: mapping the read-only page below failed\n", pv_name);
    hvg_printf("%s: ud2 with rsp 16 bytes above the bottom of its stack page, the page below %s; "
               "expect the guest to end: the #UD frame cannot be written\n", pv_name,
               read_only_below ? "read-only" : "unmapped");
    __asm__ volatile("mov %%rsp, %%rbx\n\t"
                     "mov %[sp], %%rsp\n\t"
                     "ud2\n\t"
                     "mov %%rbx, %%rsp"
                     : : [sp] "r"(STACK_PAGE + 16) : "rbx", "memory");
    hvg_printf("%s: FAILED: survived\n", pv_name);
    return 1;
}
