/* The console's share of the scheduler's decisions (sched_internal.h):
 * moving queued lines to the serial line and the screen at the start of
 * each decision, with interrupts on where that is safe, giving way to a
 * vCPU that wakes meanwhile. */
#include "hv/console/log.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/x86.h"
#include "hv/debug/irqoff.h"
#include "hv/sched/sched_internal.h"
#include "vcpu/vcpu.h"

/* A vCPU woke since the scheduler last decided (struct sched_cpu): the
 * console drain at the start of a decision gives way to it
 * (sched_drain_console). */
static bool woken(void)
{
    return sched_this()->woken_since_decision;
}

/* The console keeps moving when the CPU is never idle: a piece of it at
 * each decision. Moving lines costs per line (~2 000 instructions for a
 * short one; a piece may hold 15), so while the vCPU on the CPU is running
 * or there is none (nothing is decided yet: an interrupt finds the state
 * as at any entry from a guest) it is done with interrupts on, and a timer
 * that falls due meanwhile is taken. A wake-up stops it, or keeps it from
 * starting when it came first (often the reason for this decision): the
 * woken vCPU waits for one line at most, not for the piece (~30 000
 * instructions of short lines). Otherwise (the vCPU just blocked or
 * stopped: a wake-up now would find it half-way off the CPU, its registers
 * not saved) one line only, with interrupts off (none when it stopped for
 * good, below). Returns whether it moved
 * anything (then it took time); while nothing waits, or the line's pace
 * lets no byte go yet, the inline test before it (sched_internal.h) costs
 * a few instructions. */
#define DRAIN_LINES_IRQ_OFF 1

bool sched_drain_console_piece(void)
{
    struct vcpu *cur = this_cpu()->current;
    /* Not at the decision after a vCPU stopped for good (its guest's end,
     * its HV_CALL_VCPU_EXIT): that stretch holds the end's own work (the
     * exit's lines, the first reaping step; ~4 900 instructions more for
     * a line here: hv_irq_off_max), and it comes once a vCPU, so the line
     * waits only for the next decision. */
    if (cur && cur->state != VCPU_RUNNING) {
        if (cur->state == VCPU_DEAD)
            return false;
        log_drain_some(DRAIN_LINES_IRQ_OFF);
        return true;
    }
    irqoff_pause();
    irq_enable();
    log_drain_until(woken);
    irq_disable();
    irqoff_resume();
    return true;
}
