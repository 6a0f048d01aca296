#include "hv/debug/panic.h"

#include "hv/console/log.h"
#include "hv/cpu/smp.h"
#include "hv/cpu/x86.h"
#include "hv/debug/symbols.h"
#include "hv/power/power.h"

#define MAX_FRAMES 24

static volatile int panicking;

static void print_location(const char *what, uint64_t addr)
{
    uint64_t off = 0;
    const char *name = symbols_lookup(addr, &off);
    if (name)
        log_error("  %s 0x%016lx %s+0x%lx", what, (unsigned long)addr, name, (unsigned long)off);
    else
        log_error("  %s 0x%016lx", what, (unsigned long)addr);
}

/* Any upper-half address: hv's stacks are in the core or the direct map,
 * both there; the walk needs no more precise bound than "not a guest's". */
#define UPPER_HALF_START 0xffff800000000000ULL

/* Frame-pointer walk (the core is built with -fno-omit-frame-pointer). Only
 * follows frames inside the core's upper half, upwards, and stops at the
 * zero return address hv_entry pushes. */
static void stack_trace(uint64_t rbp)
{
    log_error("stack trace:");
    for (int i = 0; i < MAX_FRAMES; i++) {
        if (rbp < UPPER_HALF_START || (rbp & 7))
            return;
        const uint64_t *frame = (const uint64_t *)rbp;
        uint64_t ret = frame[1];
        if (ret == 0)
            return;
        print_location("at", ret);
        if (frame[0] <= rbp)
            return;
        rbp = frame[0];
    }
}

static void __attribute__((noreturn)) stop(void)
{
    log_error("the hypervisor stops here");
    power_off(HV_EXIT_PANIC);
}

static bool enter_panic(void)
{
    irq_disable();
    if (__atomic_exchange_n(&panicking, 1, __ATOMIC_SEQ_CST))
        return false; /* a fault while reporting one: nothing more can be trusted */
    smp_stop_others(); /* one report, from this CPU */
    log_panic_mode();
    return true;
}

void panic(const char *fmt, ...)
{
    if (!enter_panic())
        halt_forever();
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(LOG_ERROR, "hv: PANIC: ", fmt, ap);
    va_end(ap);
    stack_trace((uint64_t)__builtin_frame_address(0));
    stop();
}

void panic_trap(const struct trap_frame *f)
{
    if (!enter_panic())
        halt_forever();
    log_error("PANIC: %s (%s, vector %lu) in the hypervisor, error code 0x%lx",
              exception_mnemonic(f->vector), exception_name(f->vector), (unsigned long)f->vector,
              (unsigned long)f->error_code);
    print_location("RIP", f->rip);
    log_error("  CR2 0x%016lx  CR3 0x%016lx  RFLAGS 0x%016lx", (unsigned long)read_cr2(),
              (unsigned long)read_cr3(), (unsigned long)f->rflags);
    log_error("  RAX 0x%016lx  RBX 0x%016lx  RCX 0x%016lx", (unsigned long)f->rax,
              (unsigned long)f->rbx, (unsigned long)f->rcx);
    log_error("  RDX 0x%016lx  RSI 0x%016lx  RDI 0x%016lx", (unsigned long)f->rdx,
              (unsigned long)f->rsi, (unsigned long)f->rdi);
    log_error("  RBP 0x%016lx  RSP 0x%016lx  R8  0x%016lx", (unsigned long)f->rbp,
              (unsigned long)f->rsp, (unsigned long)f->r8);
    log_error("  R9  0x%016lx  R10 0x%016lx  R11 0x%016lx", (unsigned long)f->r9,
              (unsigned long)f->r10, (unsigned long)f->r11);
    log_error("  R12 0x%016lx  R13 0x%016lx  R14 0x%016lx", (unsigned long)f->r12,
              (unsigned long)f->r13, (unsigned long)f->r14);
    log_error("  R15 0x%016lx  CS 0x%lx  SS 0x%lx", (unsigned long)f->r15, (unsigned long)f->cs,
              (unsigned long)f->ss);
    print_location("at", f->rip);
    stack_trace(f->rbp);
    stop();
}
