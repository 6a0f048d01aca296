/* How long hv runs with interrupts off (make bench's hv_irq_off_max,
 * docs/benchmarks.md). hv runs with interrupts off from every entry (a
 * hypercall's `syscall`, an exception, an interrupt) until it returns to a
 * guest or enables interrupts in its idle loop; this module times each such
 * stretch with the TSC and keeps the longest and what caused it.
 *
 * Off unless hv.cfg says `measure_irq_off = yes` (only bench/run.py writes
 * it). Then the boot, before the APs start, patches the entries' calls of
 * hypercall_entry, guest_exception_entry and trap_dispatch (and the jump
 * to iret_fast) into calls of the measuring wrappers below
 * (irqoff_patch_entries: the measure_patch sites of vcpu/syscall_entry.S
 * and hv/cpu/isr.S), as tracing patches its points: the entries pay
 * nothing for it. The wrappers run the plain entry until irqoff_arm (the
 * boot is not measured). (Not a call through a pointer: that would be an
 * indirect branch on every entry, through a pointer in writable memory.)
 * The idle loop's two hooks cost a load and a branch each. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/cpu/x86.h"

struct trap_frame;

/* What the entry paths call instead of hypercall_entry and trap_dispatch
 * once irqoff_arm ran. */
void irqoff_hypercall_entry(struct trap_frame *f);
void irqoff_trap_dispatch(struct trap_frame *f);

/* Set once, just before the scheduler starts the first guest. */
extern bool irqoff_measuring;

/* A return to a guest that skips the wrappers (after a vCPU switch). */
void irqoff_leave_to_guest(void);

void irqoff_arm(void);
/* Before hv's text is made read-only, when the timing will be armed: the
 * guest entries' calls (vcpu/syscall_entry.S, hv/cpu/isr.S measure_patch)
 * redirected to the timed wrappers below. */
void irqoff_patch_entries(void);
/* Logs the longest stretch (one line bench/run.py parses); nothing unless armed. */
void irqoff_report(void);

void irqoff_idle_leaving_slow(void);
void irqoff_idle_entered_slow(void);

/* The idle loop: just before it enables interrupts, and once it runs with
 * them off again (after its `sti; hlt; cli`). */
static inline void irqoff_idle_leaving(void)
{
    if (__builtin_expect(irqoff_measuring, 0))
        irqoff_idle_leaving_slow();
}

static inline void irqoff_idle_entered(void)
{
    if (__builtin_expect(irqoff_measuring, 0))
        irqoff_idle_entered_slow();
}

/* Interrupts on for an instant between two bounded steps of work that has
 * no guest to return to (the end of the run: reaping, shared regions): a
 * pending interrupt is taken, and the measurement sees two stretches, as
 * it would for the idle loop. */
void irqoff_pause_slow(void);
void irqoff_resume_slow(void);

/* hv enables interrupts for a while in the middle of its work (the
 * scheduler draining the console): the stretch ends before the `sti` and
 * a new one, with the same cause, begins after the `cli`. */
static inline void irqoff_pause(void)
{
    if (__builtin_expect(irqoff_measuring, 0))
        irqoff_pause_slow();
}

static inline void irqoff_resume(void)
{
    if (__builtin_expect(irqoff_measuring, 0))
        irqoff_resume_slow();
}

/* One instruction between the sti and the cli: the CPU takes no interrupt
 * until the instruction after an sti has run (its interrupt shadow), so a
 * `sti; cli` pair lets none in. That was this window until session 11:
 * finish's reaping loop (hv/sched/sched.c) never took the reschedule IPI
 * that drains the boot CPU's wake list, and a last guest end on another
 * CPU that queued a stop there hung the run (test
 * aprun_last_end_on_another_cpu_is_reaped); a waiting timer stayed
 * waiting, and the reaper's teardown, which stops at its next page while
 * one waits, went a page a step at the end of the run. */
static inline void irqoff_interrupt_window(void)
{
    irqoff_pause();
    __asm__ volatile("sti; nop; cli" ::: "memory");
    irqoff_resume();
}
