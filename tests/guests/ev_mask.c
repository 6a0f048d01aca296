/* Masking: events sent while a port is masked (its evtchn_mask bit) or
 * while the vCPU is masked (upcall_mask) wait, and are delivered when
 * unmasked -- by HV_CALL_EVTCHN_UNMASK, HV_CALL_IRET with IF set in its
 * frame, HV_CALL_BLOCK, or clearing upcall_mask followed by any hypercall.
 * Uses a port bound to an IPI to itself. Self-checking, one line per check. */
#include "ev_common.h"

static volatile uint64_t count;
static volatile uint8_t mask_in_callback = 0xff;

static void on_event(unsigned port, unsigned vcpu, void *arg)
{
    (void)port, (void)arg;
    mask_in_callback = hvg_vcpu_shared(vcpu)->upcall_mask;
    __atomic_fetch_add(&count, 1, __ATOMIC_RELEASE);
}

/* HV_CALL_IRET back to the next instruction, in kernel mode, with IF set in
 * the frame: unmasks events. Returns 0, or the call's error. */
static int64_t iret_unmasking(void)
{
    int64_t r;
    __asm__ volatile("mov %%rsp, %%rax\n\t"
                     "pushq $%c[ss]\n\t"
                     "pushq %%rax\n\t"      /* rsp: as before the pushes */
                     "pushfq\n\t"
                     "orq $0x200, (%%rsp)\n\t" /* IF: unmask */
                     "pushq $%c[cs]\n\t"
                     "lea 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"      /* rip */
                     "pushq $0\n\t"         /* flags */
                     "pushq %%r11\n\t"
                     "pushq %%rcx\n\t"
                     "pushq $0\n\t"         /* rax after the return */
                     "mov %[nr], %%eax\n\t"
                     "syscall\n\t"
                     "add $72, %%rsp\n\t"   /* an error: the frame is still there */
                     "jmp 2f\n"
                     "1:\n\t"
                     "xor %%eax, %%eax\n"
                     "2:\n"
                     : "=&a"(r)
                     : [ss] "i"(HV_DATA_SS), [cs] "i"(HV_KERNEL_CS), [nr] "i"(HV_CALL_IRET)
                     : "rcx", "r11", "memory", "cc");
    return r;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = si->name;
    volatile struct hv_vcpu_shared *self = hvg_vcpu_shared(vcpu);
    EV_MUST(hvg_events_init(vcpu));
    int64_t port = hvg_evtchn_bind_ipi(vcpu);
    expect_true("bind_ipi(this vCPU) -> a port", port >= 0 && port < HV_EVTCHN_PORTS);
    if (port < 0)
        return pv_finish();
    EV_MUST(hvg_event_handler((unsigned)port, on_event, NULL));
    uint64_t p = (uint64_t)port;

    /* Unmasked: delivered on the way back from the send itself. */
    expect_eq("upcall_mask starts clear", self->upcall_mask, 0);
    expect_eq("send", hvg_evtchn_send(p), 0);
    expect_eq("... delivered before the send returns", (int64_t)count, 1);
    expect_eq("... the callback ran with events masked", mask_in_callback, 1);
    expect_eq("... upcall_mask clear again after the upcall", self->upcall_mask, 0);
    expect_true("... the port is no longer pending", !hvg_evtchn_is_pending((unsigned)p));

    /* The port masked. */
    hvg_evtchn_mask((unsigned)p);
    expect_eq("send on a masked port", hvg_evtchn_send(p), 0);
    hvg_yield();
    expect_eq("... not delivered", (int64_t)count, 1);
    expect_true("... the port is pending", hvg_evtchn_is_pending((unsigned)p));
    expect_eq("... no upcall_pending for a masked port", self->upcall_pending, 0);
    expect_eq("send again on the masked port", hvg_evtchn_send(p), 0);
    expect_eq("HV_CALL_EVTCHN_UNMASK", hvg_evtchn_unmask(p), 0);
    expect_eq("... delivers, once for both sends", (int64_t)count, 2);
    expect_true("... the mask bit is clear", !((hvg_shared()->evtchn_mask[p / 64] >> (p % 64)) & 1));
    expect_eq("unmasking a port with nothing pending", hvg_evtchn_unmask(p), 0);
    expect_eq("... delivers nothing", (int64_t)count, 2);

    /* The vCPU masked; HV_CALL_IRET unmasks. */
    hvg_events_mask(vcpu);
    expect_eq("send with upcall_mask set", hvg_evtchn_send(p), 0);
    hvg_yield();
    expect_eq("... not delivered", (int64_t)count, 2);
    expect_eq("... upcall_pending is set", self->upcall_pending, 1);
    expect_eq("HV_CALL_IRET with IF set in the frame", iret_unmasking(), 0);
    expect_eq("... delivers", (int64_t)count, 3);
    expect_eq("... and leaves events unmasked", self->upcall_mask, 0);

    /* The vCPU masked; HV_CALL_BLOCK unmasks and returns at once. */
    hvg_events_mask(vcpu);
    expect_eq("send with upcall_mask set", hvg_evtchn_send(p), 0);
    uint64_t t0 = hvg_now();
    expect_eq("HV_CALL_BLOCK with an event pending", hvg_block(), 0);
    uint64_t took = hvg_now() - t0;
    expect_eq("... delivers", (int64_t)count, 4);
    expect_true("... at once (within 10 ms)", took < HVG_MS(10));
    expect_eq("... and leaves events unmasked", self->upcall_mask, 0);

    /* The vCPU masked; clearing upcall_mask and a hypercall deliver. */
    hvg_events_mask(vcpu);
    expect_eq("send with upcall_mask set", hvg_evtchn_send(p), 0);
    expect_eq("a hypercall while masked", hvg_hypercall0(HV_CALL_NOP), 0);
    expect_eq("... delivers nothing", (int64_t)count, 4);
    hvg_events_unmask(vcpu); /* upcall_mask = 0, then HV_CALL_NOP */
    expect_eq("clearing upcall_mask, then a hypercall: delivers", (int64_t)count, 5);

    /* Both masks: the port's mask wins until it is cleared too. */
    hvg_evtchn_mask((unsigned)p);
    hvg_events_mask(vcpu);
    expect_eq("send, port and vCPU masked", hvg_evtchn_send(p), 0);
    hvg_events_unmask(vcpu);
    expect_eq("... unmasking the vCPU alone delivers nothing", (int64_t)count, 5);
    expect_eq("... HV_CALL_EVTCHN_UNMASK then delivers", hvg_evtchn_unmask(p), 0);
    expect_eq("... once", (int64_t)count, 6);

    /* A port with no callback: the SDK leaves its event pending; the
     * header says HV_CALL_EVTCHN_UNMASK "delivers if pending", and
     * registering a callback later has it delivered. */
    int64_t q = hvg_evtchn_bind_ipi(vcpu);
    expect_true("bind a second IPI port", q >= 0 && q < HV_EVTCHN_PORTS);
    if (q >= 0) {
        expect_eq("send on it (no callback)", hvg_evtchn_send((uint64_t)q), 0);
        expect_true("... it stays pending", hvg_evtchn_is_pending((unsigned)q));
        expect_eq("... upcall_pending is clear (the upcall ran)", self->upcall_pending, 0);
        hvg_events_mask(vcpu);
        expect_eq("HV_CALL_EVTCHN_UNMASK on it (never masked), events masked",
                  hvg_evtchn_unmask((uint64_t)q), 0);
        expect_eq("... delivers if pending: upcall_pending set again", self->upcall_pending, 1);
        hvg_events_unmask(vcpu);
        uint64_t before = count;
        EV_MUST(hvg_event_handler((unsigned)q, on_event, NULL));
        expect_eq("registering a callback delivers the pending event", (int64_t)(count - before), 1);
        expect_true("... and it is no longer pending", !hvg_evtchn_is_pending((unsigned)q));
        expect_eq("close it", hvg_evtchn_close((uint64_t)q), 0);
    }

    /* Closed: nothing more. */
    uint64_t before_close = count;
    expect_eq("close the port", hvg_evtchn_close(p), 0);
    expect_eq("send on the closed port", hvg_evtchn_send(p), -HV_EINVAL);
    expect_eq("... delivers nothing", (int64_t)(count - before_close), 0);
    return pv_finish();
}
