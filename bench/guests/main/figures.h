/* bench-main's parts (docs/benchmarks.md): bench/guests/bench_main.c has
 * the table of figures and the harness, bench/guests/main/ the figures,
 * one file per group. This is what they share: the timing, the failure
 * marker, the handlers' return through HV_CALL_IRET, and each group's
 * sample, before and after functions (the rows of figures[]). */
#pragma once

#include "hvg.h"
#include "hvg_event.h"

#include "bench/guests/bench.h"
#include "bench/guests/bench_clock.h"

#define SAMPLE_FAILED UINT64_MAX

/* rdtsc with the 64-bit assembly inside the asm, so every sample function
 * pays the same fixed instructions around its body: rdtsc, shl, or, and the
 * move that saves the first reading (measured by sample_empty). */
static inline __attribute__((always_inline)) uint64_t bench_tsc(void)
{
    uint64_t t;

    __asm__ volatile("rdtsc\n\tshl $32, %%rdx\n\tor %%rdx, %%rax" : "=a"(t) : : "rdx");
    return t;
}

/* Why the last sample failed (a hypercall's result), for the error line. */
extern int64_t last_result;

/* The asm handlers' return (cpu.c, events.c): struct hv_iret_frame's flags,
 * r11, rcx and rax pushed on top of the native frame, then HV_CALL_IRET,
 * which comes back only with an error (bench_iret_failed, in cpu.c). */
_Static_assert(HV_CALL_IRET == 10, "IRET_CALL hard-codes HV_CALL_IRET");
#define IRET_FRAME "pushq $0\n\tpush %r11\n\tpush %rcx\n\tpush %rax\n\t"
#define IRET_CALL "mov $10, %eax\n\tsyscall\n\tmov %rax, %rdi\n\tand $-16, %rsp\n\t" \
                  "call bench_iret_failed\n"

/* calls.c: rdtsc_pair, hypercall_null, hypercall_console_64b, vcpu_switch,
 * cpu_workload. */
uint64_t sample_empty(void), sample_hypercall_null(void), sample_console_64b(void),
    sample_vcpu_switch(void), sample_workload(void);
const char *vcpu_switch_before(void), *vcpu_switch_after(void);
uint64_t guests_running(void);
extern uint32_t workload_crc; /* the last cpu_workload sample's, for run.py's check */

/* cpu.c: trap_ud_roundtrip(_iretq), trap_pf_roundtrip, syscall_fast,
 * syscall_bounce. */
uint64_t sample_trap_ud(void), sample_trap_pf(void), sample_syscall_fast(void),
    sample_syscall_bounce(void);
const char *ud_iret_before(void), *ud_iretq_before(void), *ud_after(void), *pf_before(void),
    *pf_after(void), *fast_before(void), *fast_after(void), *bounce_before(void);
extern uint64_t fast_hv_entries; /* hv entries in syscall_fast's calls */

/* events.c: event_self, event_cross_guest, timer_deadline_late. */
uint64_t sample_event_self(void), sample_event_cross(void), sample_timer_late(void);
const char *self_before(void), *self_after(void), *cross_before(void), *cross_after(void),
    *timer_before(void), *timer_after(void);
/* bench-event (event_cross_guest's receiver, boot a only) is alive too, but
 * blocked since before we first ran: it never takes a yield. 1 while so. */
unsigned blocked_event_peer(void);
/* Lets bench-event end; NULL, or why that failed. */
const char *release_event_peer(void);
