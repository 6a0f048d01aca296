#include "vcpu/guest_trap.h"

#include "hv/console/log.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/x86.h"
#include "hv/debug/irqoff.h"
#include "hv/debug/panic.h"
#include "hv/guest/guest.h"
#include "hv/guest/uaccess.h"
#include "hv/sched/sched_return.h"
#include "hv/xen/xen.h"
#include "lib/fmt.h"
#include "vcpu/deliver.h"
#include "vcpu/smap_quirk.h"
#include "vcpu/trap_table.h"
#include "vcpu/vcpu.h"

#define PF_PRESENT (1u << 0)
#define PF_WRITE (1u << 1)
#define PF_USER (1u << 2)
#define PF_FETCH (1u << 4)

/* Vectors (below 32) for which the CPU pushes an error code: #DF #TS #NP
 * #SS #GP #PF #AC #CP #VC #SX, as bits. */
#define ERROR_CODE_VECTORS 0x60227d00u
_Static_assert(ERROR_CODE_VECTORS == ((1u << VEC_DF) | (1u << VEC_TS) | (1u << VEC_NP) |
                                      (1u << VEC_SS) | (1u << VEC_GP) | (1u << VEC_PF) |
                                      (1u << VEC_AC) | (1u << VEC_CP) | (1u << 29) | (1u << 30)),
               "the vectors with an error code");

#define GP_ERROR_IDT (1u << 1)
#define GP_ERROR_EXT (1u << 0)
#define OPCODE_INT_IMM8 0xcd

/* `int n` on a gate hv keeps at DPL 0 raises #GP with the vector in the
 * error code. If the guest's trap table gives it that vector, and allows
 * the mode it is in, it gets the interrupt instead, as with a DPL-3 gate:
 * delivered with rip after the instruction. */
static bool soft_interrupt(struct vcpu *v, struct trap_frame *f)
{
    if (f->vector != VEC_GP || !(f->error_code & GP_ERROR_IDT) || (f->error_code & GP_ERROR_EXT) ||
        !v->arch.traps)
        return false;
    /* The vector comes from the instruction; the error code must name the
     * same gate. Hardware puts the vector in bits 3 and up; QEMU's TCG puts
     * the gate's byte offset (vector * 16) there: both are accepted. */
    uint8_t insn[2];
    if (copy_from_space(guest_space(v->guest, v->arch.user_mode ? v->arch.user_space : 0), insn,
                        f->rip, 2) != 0 || insn[0] != OPCODE_INT_IMM8)
        return false;
    unsigned vector = insn[1];
    uint64_t index = f->error_code & ~7ull;
    if (index != (uint64_t)vector << 3 && index != (uint64_t)vector << 4)
        return false;
    uint64_t handler;
    uint8_t flags;
    if (!trap_table_lookup(v->arch.traps, vector, &handler, &flags) ||
        (v->arch.user_mode && !(flags & HV_TRAP_USER_INT)))
        return false;
    f->rip += 2;
    deliver_to_kernel(v, f, handler,
                      DELIVER_WHAT(DELIVERY_INT_N) |
                          ((flags & HV_TRAP_MASK_EVENTS) ? DELIVER_MASK_EVENTS : 0));
    return true;
}

/* No handler for the exception: the guest ends, with what happened; or
 * it is a Xen guest's, whose delivery is hv/xen/xen_trap.c's. */
static void __attribute__((noinline, cold)) unhandled(struct vcpu *v, struct trap_frame *f,
                                                      uint64_t cr2)
{
    if (v->arch.xen) { /* Xen personality hook (its vCPUs have no arch.traps): its own delivery */
        xen_exception(v, f, cr2);
        return;
    }
    /* Formatted with interrupts on, as an exit's line (hv/guest/guest_end.c
     * guest_exit: the vCPU still runs, in its entry, nothing held): ~3,000
     * instructions a restarting guest's every fault would add to its end's
     * stretch (hv_irq_off_max, docs/benchmarks.md). #DB too: from ring 3
     * it left its IST stack before trap_dispatch (hv/cpu/isr.S
     * paranoid_from_guest: the frame moved into the vCPU's, on the CPU's
     * stack), and no #DB can come from hv in the window (hv sets no TF; the
     * debug registers are hv's, a guest's are never loaded, and hv's only
     * breakpoint, debug_syscall_breakpoint, is the syscall entry's); one
     * would take the free IST stack and be dropped (trap.c debug_in_hv). */
    char reason[112], line[LOG_FORMAT_BYTES];
    irqoff_pause();
    irq_enable();
    if (f->vector == VEC_PF)
        fmt_format(reason, sizeof(reason), "#PF (page fault) %s 0x%lx (%s), RIP 0x%lx",
                   (f->error_code & PF_FETCH) ? "executing" :
                   (f->error_code & PF_WRITE) ? "writing" : "reading",
                   (unsigned long)cr2,
                   (f->error_code & PF_PRESENT) ? "protection" : "not mapped",
                   (unsigned long)f->rip);
    else if (f->vector == VEC_GP || f->vector == VEC_SS || f->vector == VEC_NP ||
             f->vector == VEC_TS || f->vector == VEC_AC)
        fmt_format(reason, sizeof(reason), "%s (%s), error code 0x%lx, RIP 0x%lx",
                   exception_mnemonic(f->vector), exception_name(f->vector),
                   (unsigned long)f->error_code, (unsigned long)f->rip);
    else
        fmt_format(reason, sizeof(reason), "%s (%s), RIP 0x%lx", exception_mnemonic(f->vector),
                   exception_name(f->vector), (unsigned long)f->rip);
    size_t n = log_format(line, LOG_ERROR, "guest %s ended: %s", v->guest->name, reason);
    irq_disable();
    irqoff_resume();
    guest_end_formatted(v->guest, GUEST_FAULTED, -1, reason, line, n);
}

/* f->vector < 32. Inline in both of its entries. */
static inline __attribute__((always_inline)) void exception_from_guest(struct vcpu *v,
                                                                       struct trap_frame *f)
{
    unsigned vector = (unsigned)f->vector;
    uint64_t cr2 = 0;

    /* NMIs never come here: trap_dispatch counts them. */
    if (vector == VEC_MC || vector == VEC_DF)
        panic_trap(f); /* hardware trouble or a broken hv, not the guest */
    v->arch.hv_entries++;

    if (vector == VEC_PF) {
        cr2 = read_cr2();
        /* hv's own business first: a handler it entered that cannot be
         * fetched, or (a supervisor access from ring 3: never the guest's
         * doing) the emulator's SMAP artefact. */
        if (f->error_code & PF_FETCH) {
            if (deliver_fetch_failed(v, f, cr2))
                return;
        } else if (!(f->error_code & PF_USER) && smap_quirk_complete(v, f, cr2)) {
            return;
        }
    } else if (vector == VEC_GP && soft_interrupt(v, f)) {
        return;
    }
    uint64_t handler;
    uint8_t flags;
    if (v->arch.traps && trap_table_exception(v->arch.traps, vector, &handler, &flags)) {
        if (vector == VEC_PF)
            v->guest->shared->vcpu[v->id].cr2 = cr2;
        uint32_t how = DELIVER_WHAT(vector);
        if (flags & HV_TRAP_MASK_EVENTS)
            how |= DELIVER_MASK_EVENTS;
        if (ERROR_CODE_VECTORS & (1u << vector))
            how |= DELIVER_ERROR_CODE;
        deliver_to_kernel(v, f, handler, how);
        return;
    }
    unhandled(v, f, cr2);
}

/* From trap_dispatch (#DB from a guest, and every exception while make
 * bench times interrupts-off stretches). */
void guest_exception(struct vcpu *v, struct trap_frame *f)
{
    exception_from_guest(v, f);
}

_Static_assert(__builtin_offsetof(struct trap_frame, vector) == 15 * 8, "FRAME_VECTOR in isr.S");

void guest_exception_entry(struct trap_frame *f)
{
    struct percpu *cpu = this_cpu();
    /* As trap_dispatch: every entry clears AC (isr.S); were it set here,
     * SMAP would be off for all hv does on this path. */
    if (read_rflags() & RFLAGS_AC)
        cpu->entry.ac_on_entry++;
    exception_from_guest(cpu->current, f);
    sched_return_inline(f);
}
