/* The longest stretch hv runs with interrupts off (irqoff.h). One CPU, so
 * one open stretch at a time: a stretch begins at an entry whose interrupted
 * context had interrupts on (a guest, or hv's idle loop between its `sti`
 * and `cli`) or where the idle loop goes on after its `cli`, and ends at the
 * return to such a context or at the idle loop's `sti`. An NMI or exception
 * taken inside a stretch (interrupts off in its frame) neither begins nor
 * ends one. */
#include "hv/debug/irqoff.h"

#include "hv/console/log.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"
#include "hv/guest/guest.h"
#include "lib/string.h"
#include "vcpu/syscall.h"
#include "vcpu/vcpu.h"

bool irqoff_measuring;

enum cause_kind { CAUSE_TRAP, CAUSE_HYPERCALL, CAUSE_BOUNCE, CAUSE_IDLE };

struct cause {
    enum cause_kind kind;
    uint64_t number;           /* the vector, the hypercall number, or the idle
                                * loop's waking vector */
    const struct guest *guest; /* whose entry it was (NULL: hv's idle loop) */
};

static bool open;
static uint64_t open_since;
static struct cause open_cause;
static uint64_t last_vector;   /* the vector that last entered hv */

static uint64_t stretches, longest;
static struct cause longest_cause;
static char longest_guest[sizeof(((struct guest *)0)->name)];

static const struct guest *current_guest(void)
{
    struct vcpu *v = this_cpu()->current;
    return v ? v->guest : NULL;
}

static void begin(enum cause_kind kind, uint64_t number)
{
    open_cause = (struct cause){kind, number, current_guest()};
    open = true;
    open_since = rdtsc();
}

static void end(void)
{
    uint64_t now = rdtsc();
    if (!open)
        return; /* the stretch before the first guest ran: the boot's */
    open = false;
    stretches++;
    if (now - open_since <= longest)
        return;
    longest = now - open_since;
    longest_cause = open_cause;
    const char *name = open_cause.guest ? open_cause.guest->name : "-";
    size_t n = strlen(name);
    if (n >= sizeof(longest_guest))
        n = sizeof(longest_guest) - 1;
    memcpy(longest_guest, name, n);
    longest_guest[n] = '\0';
}

/* An entry whose interrupted context had interrupts on (a guest, or the
 * idle loop between its `sti` and `cli`) begins a stretch, and leaving to
 * such a context ends it; an NMI or exception inside a stretch (interrupts
 * off in its frame) is part of the stretch. */
void irqoff_trap_dispatch(struct trap_frame *f)
{
    bool from_interrupts_on = f->rflags & RFLAGS_IF;
    if (from_interrupts_on) {
        last_vector = f->vector;
        begin(CAUSE_TRAP, f->vector);
    }
    trap_dispatch(f);
    if (from_interrupts_on)
        end();
}

/* A guest makes every hypercall with interrupts on. */
void irqoff_hypercall_entry(struct trap_frame *f)
{
    struct vcpu *v = this_cpu()->current;
    begin(v && v->arch.user_mode ? CAUSE_BOUNCE : CAUSE_HYPERCALL, f->rax);
    hypercall_entry(f);
    end();
}

void irqoff_arm(void)
{
    irqoff_measuring = true;
}

static struct cause paused_cause;

void irqoff_pause_slow(void)
{
    paused_cause = open_cause;
    end();
}

void irqoff_resume_slow(void)
{
    begin(paused_cause.kind, paused_cause.number);
    open_cause.guest = paused_cause.guest;
}

void irqoff_idle_leaving_slow(void)
{
    end();
}

void irqoff_idle_entered_slow(void)
{
    begin(CAUSE_IDLE, last_vector);
}

/* One line for bench/run.py; keep its shape (docs/benchmarks.md). */
void irqoff_report(void)
{
    static const char *const kinds[] = {"vector", "hypercall", "system-call-bounce",
                                        "idle-after-vector"};
    if (!irqoff_measuring)
        return;
    log_info("irq-off: longest %lu TSC cycles: %s %lu guest %s (%lu stretches)",
             (unsigned long)longest, kinds[longest_cause.kind],
             (unsigned long)longest_cause.number, longest_guest, (unsigned long)stretches);
}
