/* Events and time for our Xen-ABI test guests (written from Xen's
 * public interface): the shared-info page, an event callback counting the
 * upcalls and the VIRQ_TIMER port's events in Xen's 2-level way, system
 * time from vcpu_time_info, and the event-channel calls. Included by one
 * guest's .c each (every guest is its own image). */
#pragma once

#include "tests/guests/xen/xen_guest.h"

#define HV_ADDR 0xffff800000000000ULL /* an upper-half address: hv's */
#define MS 1000000ULL

static union {
    struct xen_shared_info s;
    char page[4096];
} shared_space __attribute__((aligned(4096)));
#define si_page shared_space.s

void event_entry(void);
/* Xen's event frame (rcx, r11, rip, cs, rflags, rsp, ss) is left for
 * on_event to read; the callback returns with HYPERVISOR_iret (flags 0). */
__asm__(".pushsection .text\n"
        ".globl event_entry\n"
        "event_entry:\n"
        "  push %rax; push %rdi; push %rsi; push %rdx; push %r8; push %r9; push %r10\n"
        "  lea 56(%rsp), %rdi\n" /* the frame */
        "  call on_event\n"
        "  pop %r10; pop %r9; pop %r8; pop %rdx; pop %rsi; pop %rdi; pop %rax\n"
        "  pop %rcx; pop %r11\n"
        "  push $0\n"
        "  jmp hypercall_page + 23 * 32\n"
        ".popsection\n");

static volatile unsigned ticks, upcalls, timer_port, ipi_port, ipis;
static volatile uint64_t frame_cs, frame_rflags, frame_ss, frame_rip, mask_in_handler;

void on_event(const uint64_t *frame);
void on_event(const uint64_t *frame)
{
    struct xen_vcpu_info *vi = &si_page.vcpu_info[0];
    upcalls++;
    frame_rip = frame[2];
    frame_cs = frame[3];
    frame_rflags = frame[4];
    frame_ss = frame[6];
    mask_in_handler = vi->evtchn_upcall_mask;
    vi->evtchn_upcall_pending = 0;
    uint64_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel) {
        unsigned w = (unsigned)__builtin_ctzll(sel);
        sel &= sel - 1;
        uint64_t bits = si_page.evtchn_pending[w] & ~si_page.evtchn_mask[w];
        while (bits) {
            unsigned b = (unsigned)__builtin_ctzll(bits);
            bits &= bits - 1;
            __atomic_and_fetch(&si_page.evtchn_pending[w], ~(1ULL << b), __ATOMIC_SEQ_CST);
            if (w * 64 + b == timer_port)
                ticks++;
            else if (ipi_port && w * 64 + b == ipi_port)
                ipis++;
        }
    }
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static unsigned time_reads_torn;

/* System time from vcpu_time_info, Xen's way (version even and unchanged). */
static inline uint64_t now_ns(void)
{
    volatile struct xen_vcpu_time_info *t = &si_page.vcpu_info[0].time;
    for (;;) {
        uint32_t ver = t->version;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        uint64_t ts = t->tsc_timestamp, sys = t->system_time;
        uint32_t mul = t->tsc_to_system_mul;
        int8_t shift = t->tsc_shift;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if ((ver & 1) || ver != t->version) {
            time_reads_torn++;
            continue;
        }
        uint64_t d = rdtsc() - ts;
        d = shift >= 0 ? d << shift : d >> -shift;
        return sys + (uint64_t)(((unsigned __int128)d * mul) >> 32);
    }
}

static inline long evtchn(unsigned cmd, void *arg)
{
    return hcall(XEN_HC_event_channel_op, cmd, (uint64_t)arg, 0);
}

static inline long bind_virq(uint32_t virq, uint32_t vcpu, uint32_t *port)
{
    struct { uint32_t virq, vcpu, port; } a = {virq, vcpu, 0xdeadbeef};
    long rc = evtchn(XEN_EVTCHNOP_bind_virq, &a);
    *port = a.port;
    return rc;
}

static inline long port_op(unsigned cmd, uint32_t port)
{
    return evtchn(cmd, &port);
}

static inline long set_timer(uint64_t t)
{
    return hcall(XEN_HC_set_timer_op, t, 0, 0);
}

static inline long block(void)
{
    return hcall(XEN_HC_sched_op, XEN_SCHEDOP_block, 0, 0);
}


static inline long vcpu_op(unsigned cmd, uint64_t vcpu, void *arg)
{
    return hcall(XEN_HC_vcpu_op, cmd, vcpu, (uint64_t)arg);
}

/* Maps the shared-info page over si_page and registers the callback. */
static inline int events_setup(const struct xen_start_info *si)
{
    return hcall(XEN_HC_update_va_mapping, (uint64_t)&si_page, si->shared_info | 3, 2) == 0 &&
           hcall(XEN_HC_set_callbacks, (uint64_t)event_entry, 0, 0) == 0;
}

static inline int port_pending(unsigned port)
{
    return (si_page.evtchn_pending[port / 64] >> (port % 64)) & 1;
}
