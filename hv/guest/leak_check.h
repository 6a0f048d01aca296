/* Nothing leaked (docs/design.md, "Restarts and the health monitor"): once
 * a guest's memory is back, at each end and each restart, hv compares its
 * own counts with what the guests still hold and logs an error line naming
 * "leak" for any difference:
 *   - frames and page tables: the ended guest's reservation has nothing
 *     charged (and for a restart is whole again);
 *   - kmalloc blocks: hv's kmalloc byte count equals the count before the
 *     first guest plus what every guest holds by its state (its struct,
 *     kept image, health log, vCPUs with FPU areas and trap tables, user
 *     spaces, event-channel table, console buffer);
 *   - event ports: the ended guest has no port table, and the console
 *     listeners hv counts are the bound console VIRQs of live vCPUs;
 *   - timers: the deadlines hv counts armed are those of live vCPUs.
 * With guests on several CPUs the hv-wide comparisons can catch another
 * CPU mid-hypercall: their differences are held until a look balances
 * (then they were that) or the last look in the summary, which is exact
 * and reports them (leak_check.c).
 * Always on: a walk over the guests and their vCPUs per end, ~135
 * instructions a guest, a reaper step of its own (hv/guest/guest_end.c);
 * nothing on any hot path. A new kmalloc'd
 * per-guest structure must be added to the sum (guest_held_bytes).
 * hv.cfg `debug_leak_on_end = yes` loses 64 bytes at the first guest end
 * on purpose (given back at the end of the run) to show the check fires;
 * `debug_leak_on_end = frame` loses one frame the same way. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct guest;

/* Before the first guest is loaded: the kmalloc count hv itself holds. */
void leak_check_mark(void);
/* The guest's memory is all back (for good, or for its restart). */
void leak_check_after_end(struct guest *g);
/* The summary's line: guest ends checked, differences found. */
void leak_check_report(void);
/* The debug hooks: 64 kmalloc bytes (debug_leak_on_end), one frame
 * (debug_leak_on_end = frame) lost at the first end, given back at the end;
 * mid_step: 64 bytes held only during the first end's look, as another
 * CPU's hypercall holds a block it has not linked yet. */
void leak_check_debug_leak(bool on, bool frame, bool mid_step);
/* At the end of the run: gives the debug hook's block back. */
void leak_check_release(void);

/* hv's whole account of frames and kmalloc bytes since the mark (before
 * the first guest and [shm] region), exact at any moment no bounded step
 * is half done (a guest end, a restart step, a timer interrupt's work):
 *     free frames at the mark = free frames now (set-aside ones included)
 *                             + frames charged to guests' allowances
 *                             + frames kmalloc took since (size-class
 *                               pages kept for reuse, blocks > 2 KiB held)
 *                             + frames of [shm] regions
 *                             + unaccounted frames (a leak: must be 0)
 *     kmalloc bytes now       = kmalloc bytes at the mark
 *                             + what every guest holds by its state
 *                             + unaccounted bytes (a leak: must be 0)
 * False before the mark. */
struct leak_account {
    uint64_t free_at_mark, free, guest_frames, kmalloc_pages, shm_frames;
    int64_t unaccounted_frames;
    uint64_t kmalloc_bytes;
    int64_t unaccounted_bytes;
    uint32_t restarts, restarting; /* restarts made in all; guests between end and new life */
    uint64_t listeners, timers;    /* bound console VIRQs and armed deadlines of live vCPUs */
};
bool leak_account(struct leak_account *a);
