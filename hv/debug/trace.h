/* hv's event trace (hv.cfg `trace = yes`; docs/trace.md): a fixed-size
 * ring of records per CPU, written to serial at the end of the run or when
 * a guest with the monitor privilege asks.
 *
 * Off by default, and then free: each trace point is a 5-byte NOP that
 * the boot patches into a jump to the recording call only when tracing is
 * on (Linux's static keys; .trace_patch in hv/hv.ld). A trace point in a
 * hot file is one line, TRACE_*(...), so other streams' edits merge. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/debug/trace_rec.h"

struct vcpu;
struct guest;

/* False until the boot patched tracing on. The entry records the NOP's
 * and the recording block's addresses, each relative to itself. */
static inline __attribute__((always_inline)) bool trace_on(void)
{
    __asm__ goto("1: .byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n\t" /* nopl 0(%%rax,%%rax) */
                 ".pushsection .trace_patch, \"a\"\n\t"
                 ".balign 4\n\t"
                 ".long 1b - .\n\t"
                 ".long %l[on] - .\n\t"
                 ".popsection"
                 : : : : on);
    return false;
on:
    return true;
}

/* The recorder, out of line and cold: only the patched jump reaches it.
 * It saves every register it uses (no_caller_saved_registers), and the
 * trace points call it from an asm statement that tells the compiler so
 * (TRACE_CALL): a trace point then costs its function no register. A plain
 * call kept the values live across it in callee-saved registers, pushed
 * and popped on the path that never calls (+7 instructions on
 * hypercall_null). They read nothing the caller may have left unwritten
 * (ids and pointers, not state the caller is changing), so the asm needs
 * no memory clobber either. */
#define TRACE_RECORDER __attribute__((cold, noinline, used, no_caller_saved_registers))
/* The one recorder: `how` is the event and whose it is, `subject` the
 * vCPU or guest it names; `b` is the time already read with TRACE_NOW. */
#define TRACE_OF_VCPU 0
#define TRACE_OF_GUEST (1u << 16)
#define TRACE_OF_HV (2u << 16)
#define TRACE_NOW (1u << 20)
TRACE_RECORDER void trace_record(uint64_t how, const void *subject, uint64_t a, uint64_t b);

#define TRACE_CALL(how, x1, x2, x3)                                                     \
    __asm__ volatile("call trace_record"                                               \
                     : : "D"((uint64_t)(how)), "S"((uint64_t)(uintptr_t)(x1)),         \
                       "d"((uint64_t)(x2)), "c"((uint64_t)(x3)) : "cc")

#define TRACE_VCPU(ev, v, a, b) do { if (trace_on()) TRACE_CALL(ev, v, a, b); } while (0)
/* At the scheduler's own reading of the clock: run-state changes. */
#define TRACE_VCPU_AT(ev, v, a, now) \
    do { if (trace_on()) TRACE_CALL((ev) | TRACE_NOW, v, a, now); } while (0)
#define TRACE_GUEST(ev, g, a) do { if (trace_on()) TRACE_CALL((ev) | TRACE_OF_GUEST, g, a, 0); } while (0)
#define TRACE_HV(ev, a) do { if (trace_on()) TRACE_CALL((ev) | TRACE_OF_HV, 0, a, 0); } while (0)
/* A window boundary: recorded only when the CPU's window changed. */
#define TRACE_WINDOW(index, now) \
    do { if (trace_on()) TRACE_CALL(TR_WINDOW | TRACE_OF_HV | TRACE_NOW, 0, index, now); } while (0)

/* Boot, before mm_protect_core_alias (the patching writes hv's text through
 * its direct-map alias) and after xpti_init (it sets ENTRY_TRACE in
 * entry_flags). Allocates the boot CPU's ring. */
void trace_init(bool on);
/* A CPU brought up later gets its ring (no-op when tracing is off). */
void trace_cpu_init(unsigned cpu_index);
/* The end of the run: every CPU's ring to serial, with the header and the
 * lost counts (docs/trace.md). */
void trace_dump_all(void);
/* For a monitor guest (HV_CALL_HEALTH_READ's HV_HEALTH_TRACE_DUMP): at most
 * `max` records (oldest first, every CPU) queued on the log and taken out,
 * never so many that hv's log queue would drop lines; returns how many,
 * TRACE_DUMP_OFF when tracing is off, TRACE_DUMP_LATER when records wait
 * but the log has no room now. */
#define TRACE_DUMP_OFF (-1)
#define TRACE_DUMP_LATER (-2)
int64_t trace_dump_some(uint32_t max);
