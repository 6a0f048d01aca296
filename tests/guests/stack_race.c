/* A guest kernel stack page unmapped by the guest's other vCPU, on another
 * CPU, while the first takes #UD after #UD on it: hv's lean delivery
 * (vcpu/deliver_fast.S) stores each frame word by word onto that page, so
 * the unmap can land before a delivery, between two of its stores (a #PF
 * in hv at a store the exception table lists), during the handler (its own
 * access faults: the #PF's delivery onto the same page fails) or in the
 * handler's HV_CALL_IRET (the frame unreadable: -HV_EFAULT, then ud2 on
 * the gone stack). Every one of those must end the guest with hv's
 * "fault while delivering #UD/#PF: the kernel stack is not writable at
 * <an address in the page>", and hv must never panic (hv.cfg
 * `[guest stack-race] cpus = 0-1` at SMP 2: tests/system/uaccess_cases.py).
 * vCPU 0 loops on the stack page; vCPU 1 waits until the loop runs, then
 * unmaps the page once. Reaching the end prints "FAILED: survived". */
#include "hvg.h"
#include "hvg_cpu.h"
#include "pv_common.h"

HV_GUEST_NOTE("stack-race", HVG_MIB(2), 2, 0);

#define STACK_VA 0x0000520000000000ull
#define LOOPS 20000000ull       /* a bound: the unmap ends it long before */
#define SPINS_BEFORE 200000     /* vCPU 1: let the loop run a while first */
#define MAX_SPINS 400000000ull  /* a bound on every wait (hv's time limit ends it first) */

static volatile int looping;

/* The handlers, on the racing stack: #UD returns past the ud2 with
 * HV_CALL_IRET (a refused return means the frame went: ud2 again on the
 * gone stack); #PF never runs (its delivery is onto the same page). */
extern char race_ud_handler[], race_pf_handler[];
__asm__(".pushsection .text\n"
        "race_ud_handler:\n"
        "    addq $2, (%rsp)\n"
        PV_IRET_TAIL_ASM
        "race_pf_handler:\n"
        "    ud2\n"
        ".popsection\n");

static int vcpu0(void)
{
    struct hv_trap_info e[2] = {
        { .vector = HVG_UD, .handler = (uint64_t)(uintptr_t)race_ud_handler },
        { .vector = HVG_PF, .handler = (uint64_t)(uintptr_t)race_pf_handler },
    };
    if (hvg_mem_map(HV_SPACE_KERNEL, STACK_VA, 1, 0, HV_PROT_READ | HV_PROT_WRITE) != 0 ||
        hvg_set_trap_table(e, 2) != 0) {
        hvg_printf("stack-race: FAILED: setting up\n");
        return 1;
    }
    hvg_printf("stack-race: ud2 in a loop on the stack page 0x%llx; vCPU 1 unmaps it\n",
               (unsigned long long)STACK_VA);
    __atomic_store_n(&looping, 1, __ATOMIC_RELEASE);
    uint64_t left = LOOPS;
    __asm__ volatile("mov %%rsp, %%rbx\n\t"
                     "mov %[sp], %%rsp\n\t"
                     "1: ud2\n\t"
                     "dec %[n]\n\t"
                     "jnz 1b\n\t"
                     "mov %%rbx, %%rsp"
                     : [n] "+r"(left) : [sp] "r"(STACK_VA + PAGE / 2) : "rbx", "memory");
    hvg_printf("stack-race: FAILED: survived\n");
    return 1;
}

static int vcpu1(void)
{
    for (uint64_t s = 0; s < MAX_SPINS && !__atomic_load_n(&looping, __ATOMIC_ACQUIRE); s++)
        if (s % 4096 == 4095)
            hvg_yield(); /* on one CPU the other vCPU needs it */
    for (volatile unsigned s = 0; s < SPINS_BEFORE; s++)
        ;
    if (hvg_mem_unmap(HV_SPACE_KERNEL, STACK_VA, 1) != 0) /* the guest may end meanwhile */
        hvg_printf("stack-race: FAILED: HV_CALL_MEM_UNMAP\n");
    for (uint64_t s = 0; s < MAX_SPINS; s++)
        if (s % 4096 == 4095)
            hvg_yield();
    return 1;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = "stack-race";
    if (si->vcpu_count != 2) {
        hvg_printf("stack-race: FAILED: %u vCPUs\n", si->vcpu_count);
        return 1;
    }
    return vcpu == 1 ? vcpu1() : vcpu0();
}
