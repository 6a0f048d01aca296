/* A vCPU woken while hv sleeps in its idle loop (hv/sched/sched.c: the
 * idle loop's direct entry, sched_idle_interrupted; tests/system/
 * idle_cases.py). Two guests from this image, told apart by name, booted
 * together under -icount:
 *
 *   idle-entry-stack    binds its timer, sleeps 150 ms (hv draws the boot's
 *                       lines), arms its timer 20 ms ahead and blocks
 *                       (HV_CALL_BLOCK) with its stack pointer on an
 *                       unmapped page. The timer wakes it while hv idles
 *                       and the other guest sleeps: the lone vCPU, entered
 *                       from the interrupt, whose upcall frame cannot be
 *                       written. hv must end it ("fault while delivering
 *                       an event upcall: the kernel stack is not writable
 *                       at ...") and go on with the other guest. A block
 *                       that returns prints "FAILED: survived".
 *   idle-entry-sleeper  sleeps 400 ms (past the other's end), then 50 times
 *                       1 ms on its timer: each timer wakes it from hv's
 *                       idle loop, and each upcall returns with
 *                       HV_CALL_IRET (the SDK's dispatcher). Prints "all N
 *                       checks passed" and exits 0; the test reads how
 *                       many of those returns hv left to its C path (a
 *                       decision left pending by the wake-up sends them
 *                       there). */
#include "ev_common.h"

HV_GUEST_NOTE("", HVG_MIB(1), 1, 0);

#define SLEEPS 50
#define UNMAPPED_SP 0x0000500000001000ull /* nothing of the guest lives there */

static void stack_gone(unsigned vcpu)
{
    EV_MUST(hvg_events_init(vcpu));
    hvg_printf("%s: blocking with rsp 0x%llx (unmapped); expect the guest to end\n", pv_name,
               (unsigned long long)UNMAPPED_SP);
    /* The screen catches up with the boot's lines first (hv draws in its
     * idle time, with interrupts on, not in its `hlt`). */
    EV_MUST(hvg_sleep_until(vcpu, hvg_now() + HVG_MS(150)));
    /* Nothing left pending from that sleep (the block would not sleep). */
    hvg_events_mask(vcpu);
    volatile struct hv_vcpu_shared *vs = hvg_vcpu_shared(vcpu);
    hvg_evtchn_clear((unsigned)hvg_timer_port(vcpu));
    vs->pending_sel = 0;
    vs->upcall_pending = 0;
    EV_MUST(hvg_set_timer(hvg_now() + HVG_MS(20)));
    /* HV_CALL_BLOCK unmasks and sleeps; rcx and r11 are the syscall's. */
    __asm__ volatile("mov %%rsp, %%rbx\n\t"
                     "mov %[sp], %%rsp\n\t"
                     "syscall\n\t"
                     "mov %%rbx, %%rsp"
                     :
                     : "a"((uint64_t)HV_CALL_BLOCK), [sp] "r"(UNMAPPED_SP)
                     : "rbx", "rcx", "r11", "memory");
    hvg_printf("%s: FAILED: survived (the block returned)\n", pv_name);
    hvg_exit(1);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = si->name;
    if (strcmp(si->name, "idle-entry-stack") == 0)
        stack_gone(vcpu);
    EV_MUST(hvg_events_init(vcpu));
    expect_eq("a first sleep of 400 ms", hvg_sleep_until(vcpu, hvg_now() + HVG_MS(400)), 0);
    unsigned early = 0;
    for (unsigned i = 0; i < SLEEPS; i++) {
        uint64_t deadline = hvg_now() + HVG_MS(1);
        expect_eq("sleep 1 ms", hvg_sleep_until(vcpu, deadline), 0);
        early += hvg_now() < deadline;
    }
    expect_eq("timers that woke it early", early, 0);
    return pv_finish();
}
