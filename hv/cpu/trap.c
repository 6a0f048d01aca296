/* Where every vector lands. Exceptions raised by the hypervisor itself are
 * fatal: hv has no code that expects to fault, so one means a bug, and the
 * panic report is the way to find it. Interrupts go to their handler. */
#include "hv/cpu/trap.h"
#include "hv/console/log.h"
#include "hv/cpu/percpu.h"
#include "hv/debug/panic.h"
#include "hv/sched/sched.h"
#include "hv/time/lapic.h"
#include "vcpu/guest_trap.h"
#include "vcpu/vcpu.h"

irq_handler irq_handler_for(uint8_t vector);

static const char *const names[32][2] = {
    {"#DE", "divide error"},        {"#DB", "debug"},
    {"NMI", "non-maskable interrupt"}, {"#BP", "breakpoint"},
    {"#OF", "overflow"},            {"#BR", "bound range exceeded"},
    {"#UD", "invalid opcode"},      {"#NM", "device not available"},
    {"#DF", "double fault"},        {"#CSO", "coprocessor segment overrun"},
    {"#TS", "invalid TSS"},         {"#NP", "segment not present"},
    {"#SS", "stack-segment fault"}, {"#GP", "general protection"},
    {"#PF", "page fault"},          {"#15", "reserved vector 15"},
    {"#MF", "x87 floating-point error"}, {"#AC", "alignment check"},
    {"#MC", "machine check"},       {"#XM", "SIMD floating-point exception"},
    {"#VE", "virtualization exception"}, {"#CP", "control protection"},
    {"#22", "reserved vector 22"},  {"#23", "reserved vector 23"},
    {"#24", "reserved vector 24"},  {"#25", "reserved vector 25"},
    {"#26", "reserved vector 26"},  {"#27", "reserved vector 27"},
    {"#HV", "hypervisor injection"}, {"#VC", "VMM communication"},
    {"#SX", "security exception"},  {"#31", "reserved vector 31"},
};

const char *exception_mnemonic(uint64_t vector)
{
    return vector < 32 ? names[vector][0] : "IRQ";
}

const char *exception_name(uint64_t vector)
{
    return vector < 32 ? names[vector][1] : "interrupt";
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

void trap_dispatch(struct trap_frame *f)
{
    if (!frame_from_guest(f)) {
        if (f->vector == VEC_NMI) {
            log_warn("NMI in the hypervisor; ignored");
            return;
        }
        /* hv never expects to fault: an exception here is a hypervisor bug. */
        if (f->vector < 32)
            panic_trap(f);
        interrupt(f);
        return;
    }
    if (f->vector < 32)
        guest_exception(this_cpu()->current, f);
    else
        interrupt(f);
    sched_return_to_guest(f);
}
