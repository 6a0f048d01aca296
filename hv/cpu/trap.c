/* Where every vector lands. Exceptions raised by the hypervisor itself are
 * fatal, but for the accesses to guest memory the exception table lists
 * (hv/cpu/extable.h), whose faults become -HV_EFAULT: any other one means
 * a bug, and the panic report is the way to find it. Interrupts go to
 * their handler. */
#include "hv/cpu/smp.h"
#include "hv/cpu/trap.h"
#include "hv/console/log.h"
#include "hv/cpu/extable.h"
#include "hv/cpu/percpu.h"
#include "hv/debug/panic.h"
#include "hv/sched/sched.h"
#include "hv/cpu/x86.h"
#include "hv/time/lapic.h"
#include "hv/xen/xen.h"
#include "vcpu/guest_trap.h"
#include "vcpu/vcpu.h"

irq_handler irq_handler_for(uint8_t vector);

/* hv/cpu/isr.S copies a frame by its size in quadwords (TRAP_FRAME_QWORDS)
 * and finds the saved CS at STUB_CS: keep them and struct trap_frame one. */
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "TRAP_FRAME_QWORDS in hv/cpu/isr.S");
_Static_assert(__builtin_offsetof(struct trap_frame, cs) - __builtin_offsetof(struct trap_frame, vector) == 24,
               "STUB_CS in hv/cpu/isr.S");

/* Characters, not pointers: a table of 64 pointers is 512 bytes of
 * addresses in hv.efi that pack far worse than the text they point at. */
static const struct {
    char mnemonic[5];
    char name[30];
} names[32] = {
    {"#DE", "divide error"},        {"#DB", "debug"},
    {"NMI", "non-maskable interrupt"}, {"#BP", "breakpoint"},
    {"#OF", "overflow"},            {"#BR", "bound range exceeded"},
    {"#UD", "invalid opcode"},      {"#NM", "device not available"},
    {"#DF", "double fault"},        {"#CSO", "coprocessor segment overrun"},
    {"#TS", "invalid TSS"},         {"#NP", "segment not present"},
    {"#SS", "stack-segment fault"}, {"#GP", "general protection"},
    {"#PF", "page fault"},          {"#15", "reserved"},
    {"#MF", "x87 floating-point error"}, {"#AC", "alignment check"},
    {"#MC", "machine check"},       {"#XM", "SIMD floating-point exception"},
    {"#VE", "virtualization exception"}, {"#CP", "control protection"},
    {"#22", "reserved"},           {"#23", "reserved"},
    {"#24", "reserved"},           {"#25", "reserved"},
    {"#26", "reserved"},           {"#27", "reserved"},
    {"#HV", "hypervisor injection"}, {"#VC", "VMM communication"},
    {"#SX", "security exception"},  {"#31", "reserved"},
};

const char *exception_mnemonic(uint64_t vector)
{
    return vector < 32 ? names[vector].mnemonic : "IRQ";
}

const char *exception_name(uint64_t vector)
{
    return vector < 32 ? names[vector].name : "interrupt";
}

static void interrupt(struct trap_frame *f)
{
    if (f->vector == VEC_SPURIOUS)
        return; /* spurious interrupts take no EOI */
    irq_handler h = irq_handler_for((uint8_t)f->vector);
    if (h) {
        h(f);
        return;
    }
    lapic_eoi(); /* harmless if it was not the APIC's; keeps it from blocking */
    log_warn("unexpected interrupt on vector %lu ignored", (unsigned long)f->vector);
}

extern const char syscall_entry[], syscall_entry_on_hv_stack[], syscall_entry_mitigated[],
    syscall_entry_mitigated_on_hv_stack[];

/* hv sets neither TF nor a debug register, so a #DB in hv context is the
 * guest's doing: a single-step or breakpoint armed by the guest's last
 * instruction and deferred past a MOV SS onto the first instruction of the
 * syscall entry (CVE-2018-8897), or one a debugger left. It arrives on the
 * IST stack; it is dropped, never delivered and never fatal. For TF the
 * guest still gets its single-step after the hypercall: sysret restores TF
 * from R11 (docs/abi.md). A fault-type breakpoint would fire again at the
 * same instruction: RF lets that instruction run once. */
static void debug_in_hv(struct percpu *cpu, struct trap_frame *f, uint64_t dr6)
{
    cpu->entry.db_in_hv++;
    if ((f->rip >= (uint64_t)syscall_entry && f->rip <= (uint64_t)syscall_entry_on_hv_stack) ||
        (f->rip >= (uint64_t)syscall_entry_mitigated &&
         f->rip <= (uint64_t)syscall_entry_mitigated_on_hv_stack))
        cpu->entry.db_at_syscall_entry++;
    f->rflags &= ~RFLAGS_TF;
    if (dr6 & DR6_BREAKPOINT_HIT)
        f->rflags |= RFLAGS_RF;
}

void trap_dispatch(struct trap_frame *f)
{
    struct percpu *cpu = this_cpu();
    /* Every entry clears AC (isr.S): were it set here, SMAP would be off
     * for all hv does on this path. Cheap enough to check always. */
    if (read_rflags() & RFLAGS_AC)
        cpu->entry.ac_on_entry++;
    if (f->vector == VEC_DB) {
        /* DR6's bits are sticky: clear them, or the next #DB looks like
         * this one too. */
        uint64_t dr6 = read_dr6();
        write_dr6(DR6_INIT);
        if (!frame_from_guest(f)) {
            debug_in_hv(cpu, f, dr6);
            return;
        }
        if (cpu->current->arch.xen)
            xen_debug_status(cpu->current, dr6);
    }
    if (f->vector == VEC_NMI) {
        if (smp_must_stop(cpu->index))
            halt_forever(); /* another CPU panicked and is printing the report */
        /* No log here: the NMI may have interrupted hv holding the log
         * lock. Counted, reported at the summary (entry_report). */
        if (!frame_from_guest(f)) {
            cpu->entry.nmi_in_hv++;
            return;
        }
        cpu->entry.nmi_in_guest++;
        sched_return_to_guest(f);
        return;
    }
    if (!frame_from_guest(f)) {
        /* hv expects to fault only where it touches guest memory; an
         * exception anywhere else is a hypervisor bug. Neither is the
         * guest's fault to deliver or count. */
        if (f->vector < 32) {
            if (f->vector == VEC_PF && extable_fixup(f, read_cr2()))
                return;
            panic_trap(f);
        }
        if (cpu->sched.idle_halted) { /* it woke the idle loop: a vCPU to enter at once? */
            if (f->vector == VEC_TIMER) {
                sched_idle_timer();
                return;
            }
            interrupt(f);
            sched_idle_interrupted();
            return;
        }
        interrupt(f);
        return;
    }
    if (f->vector < 32)
        guest_exception(cpu->current, f);
    else
        interrupt(f);
    sched_return_to_guest(f);
}

/* An instruction breakpoint (DR0, DR7.L0, execute) on the first
 * instruction of the syscall entry: every hypercall then raises #DB at
 * CPL 0 with the guest's RSP and GS, what a MOV SS-deferred #DB does on
 * hardware (QEMU's TCG defers it differently), so tests can reach
 * debug_in_hv's syscall case. */
#define DR7_L0_EXECUTE 0x1ul
static bool syscall_breakpoint_on;

void debug_syscall_breakpoint(void)
{
    syscall_breakpoint_on = true;
    debug_registers_this_cpu();
    log_info("debug: breakpoint on the syscall entry (debug_syscall_breakpoint)");
}

/* Debug registers are per CPU: each AP sets its own at bring-up (after the
 * boot CPU has read hv.cfg), else a guest on an AP never hits the
 * breakpoint (entry_db_at_syscall_entry_and_ac_beside_companion at SMP 4). */
void debug_registers_this_cpu(void)
{
    if (syscall_breakpoint_on)
        write_dr0((uint64_t)syscall_entry);
    write_dr7(DR7_INIT | (syscall_breakpoint_on ? DR7_L0_EXECUTE : 0));
}

/* Every CPU's counts: each CPU counts its own entries (no shared cache
 * line on the entry paths); the report, at the end of the run with the
 * APs parked, adds them up. */
static void entry_counts_sum(struct entry_counts *sum)
{
    *sum = (struct entry_counts){0};
    for (uint32_t i = 0; i < percpu_count; i++) {
        const struct entry_counts *c = &percpu_by_index[i]->entry;
        sum->nmi_in_hv += c->nmi_in_hv;
        sum->nmi_in_guest += c->nmi_in_guest;
        sum->db_in_hv += c->db_in_hv;
        sum->db_at_syscall_entry += c->db_at_syscall_entry;
        sum->ac_on_entry += c->ac_on_entry;
        sum->uaccess_fixups += c->uaccess_fixups;
        sum->iret_c_path += c->iret_c_path;
    }
}

__attribute__((cold)) void entry_report(void)
{
    struct entry_counts all;
    entry_counts_sum(&all);
    const struct entry_counts *c = &all;
    log_info("entry: %lu NMI(s) (%lu in hv, %lu in guests), %lu #DB in hv dropped (%lu at the "
             "syscall entry), %lu trap entries with RFLAGS.AC set",
             (unsigned long)(c->nmi_in_hv + c->nmi_in_guest), (unsigned long)c->nmi_in_hv,
             (unsigned long)c->nmi_in_guest, (unsigned long)c->db_in_hv,
             (unsigned long)c->db_at_syscall_entry, (unsigned long)c->ac_on_entry);
    log_info("uaccess: %lu fault(s) on guest memory fixed up to -HV_EFAULT",
             (unsigned long)c->uaccess_fixups);
    log_info("iret: %lu HV_CALL_IRET(s) left to the C path by the fast path",
             (unsigned long)c->iret_c_path);
    if (c->ac_on_entry)
        log_error("entry: %lu trap path(s) ran with RFLAGS.AC set: an entry lacks clac",
                  (unsigned long)c->ac_on_entry);
}
