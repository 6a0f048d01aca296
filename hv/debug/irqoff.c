/* The longest stretch hv runs with interrupts off (irqoff.h). Each CPU has
 * one open stretch at a time, and its own record of it and of its longest
 * (no CPU writes another's: at SMP the stretches of two CPUs overlap, and
 * one shared record mixed one CPU's begin with another's end); the report
 * takes the longest of all. A stretch begins at an entry whose interrupted
 * context had interrupts on (a guest, or hv's idle loop between its `sti`
 * and `cli`) or where the idle loop goes on after its `cli`, and ends at
 * the return to such a context or at the idle loop's `sti`. An NMI or
 * exception taken inside a stretch (interrupts off in its frame) neither
 * begins nor ends one. */
#include "hv/debug/irqoff.h"

#include "hv/console/log.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"
#include "hv/debug/panic.h"
#include "hv/guest/guest.h"
#include "hv/mm/mm.h"
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

struct irqoff_cpu {
    bool open;
    uint64_t open_since;
    struct cause open_cause, paused_cause;
    uint64_t last_vector; /* the vector that last entered hv on this CPU */
    uint64_t stretches, longest;
    struct cause longest_cause;
    char longest_guest[sizeof(((struct guest *)0)->name)];
};

/* By CPU index: 65 x ~100 bytes, written only by its own CPU. */
static struct irqoff_cpu irqoff_cpus[PERCPU_MAX];

static struct irqoff_cpu *mine(void)
{
    uint32_t i = this_cpu()->index;
    return &irqoff_cpus[i < PERCPU_MAX ? i : 0];
}

static const struct guest *current_guest(void)
{
    struct vcpu *v = this_cpu()->current;
    return v ? v->guest : NULL;
}

static void begin(enum cause_kind kind, uint64_t number)
{
    struct irqoff_cpu *c = mine();
    c->open_cause = (struct cause){kind, number, current_guest()};
    c->open = true;
    c->open_since = rdtsc();
}

static void end(void)
{
    uint64_t now = rdtsc();
    struct irqoff_cpu *c = mine();
    if (!c->open)
        return; /* the stretch before the first guest ran: the boot's */
    c->open = false;
    c->stretches++;
    if (now - c->open_since <= c->longest)
        return;
    c->longest = now - c->open_since;
    c->longest_cause = c->open_cause;
    const char *name = c->open_cause.guest ? c->open_cause.guest->name : "-";
    size_t n = strlen(name);
    if (n >= sizeof(c->longest_guest))
        n = sizeof(c->longest_guest) - 1;
    memcpy(c->longest_guest, name, n);
    c->longest_guest[n] = '\0';
}

/* An entry whose interrupted context had interrupts on (a guest, or the
 * idle loop between its `sti` and `cli`) begins a stretch, and leaving to
 * such a context ends it; an NMI or exception inside a stretch (interrupts
 * off in its frame) is part of the stretch. */
void irqoff_trap_dispatch(struct trap_frame *f)
{
    if (!irqoff_measuring) { /* patched in at boot, armed from the first guest on */
        trap_dispatch(f);
        return;
    }
    bool from_interrupts_on = f->rflags & RFLAGS_IF;
    if (from_interrupts_on) {
        mine()->last_vector = f->vector;
        begin(CAUSE_TRAP, f->vector);
    }
    trap_dispatch(f);
    if (from_interrupts_on)
        end();
}

/* A guest makes every hypercall with interrupts on. */
void irqoff_hypercall_entry(struct trap_frame *f)
{
    if (!irqoff_measuring) {
        hypercall_entry(f);
        return;
    }
    struct vcpu *v = this_cpu()->current;
    begin(v && v->arch.user_mode ? CAUSE_BOUNCE : CAUSE_HYPERCALL, f->rax);
    hypercall_entry(f);
    end();
}

/* A return that leaves to a guest without coming back through the
 * wrappers above (after a switch, sched.c leave_from): the stretch ends. */
void irqoff_leave_to_guest(void)
{
    end();
}

/* What measure_patch (hv/cpu/frame_asm.h) records in .measure_patch. */
struct measure_site {
    int32_t site;   /* a call rel32 or a je rel32, relative to this field */
    int32_t target; /* relative to this field */
};

extern const struct measure_site __measure_patch_start[], __measure_patch_end[];

void irqoff_patch_entries(void)
{
    for (const struct measure_site *s = __measure_patch_start; s < __measure_patch_end; s++) {
        uint64_t site = (uint64_t)&s->site + (int64_t)s->site;
        uint64_t target = (uint64_t)&s->target + (int64_t)s->target;
        /* hv's text is read-only where it runs; its direct-map alias is
         * writable until mm_protect_core_alias. No guest exists yet. */
        uint8_t *code = phys_to_virt(mm_core_phys(site));
        unsigned op = code[0] == 0xe8 ? 1 : 2; /* call, or 0f 84: je */
        if (op == 2 && (code[0] != 0x0f || code[1] != 0x84))
            panic("irqoff patch: no call or je rel32 at 0x%lx", (unsigned long)site);
        int32_t rel = (int32_t)(target - (site + op + 4));
        memcpy(code + op, &rel, sizeof(rel));
    }
    cpuid(0, 0); /* cross-modified code: serialise before it runs */
}

void irqoff_arm(void)
{
    irqoff_measuring = true;
}

void irqoff_pause_slow(void)
{
    struct irqoff_cpu *c = mine();
    c->paused_cause = c->open_cause;
    end();
}

void irqoff_resume_slow(void)
{
    struct irqoff_cpu *c = mine();
    begin(c->paused_cause.kind, c->paused_cause.number);
    c->open_cause.guest = c->paused_cause.guest;
}

void irqoff_idle_leaving_slow(void)
{
    end();
}

void irqoff_idle_entered_slow(void)
{
    begin(CAUSE_IDLE, mine()->last_vector);
}

/* One line for bench/run.py; keep its shape (docs/benchmarks.md): the
 * longest of every CPU's, and every CPU's stretches. From the summary,
 * with the other CPUs parked. */
void irqoff_report(void)
{
    static const char *const kinds[] = {"vector", "hypercall", "system-call-bounce",
                                        "idle-after-vector"};
    if (!irqoff_measuring)
        return;
    const struct irqoff_cpu *top = &irqoff_cpus[0];
    uint64_t stretches = 0;
    for (uint32_t i = 0; i < PERCPU_MAX; i++) {
        stretches += irqoff_cpus[i].stretches;
        if (irqoff_cpus[i].longest > top->longest)
            top = &irqoff_cpus[i];
    }
    log_info("irq-off: longest %lu TSC cycles: %s %lu guest %s (%lu stretches)",
             (unsigned long)top->longest, kinds[top->longest_cause.kind],
             (unsigned long)top->longest_cause.number, top->longest_guest,
             (unsigned long)stretches);
}
