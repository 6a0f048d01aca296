#include "hv/sched/sched.h"

#include "hv/console/log.h"
#include "hv/cpu/idt.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/x86.h"
#include "hv/guest/guest.h"
#include "hv/mm/mm.h"
#include "hv/power/power.h"
#include "hv/time/time.h"
#include "vcpu/vcpu.h"

void enter_guest_frame(struct trap_frame *f) __attribute__((noreturn));

static struct vcpu *queue_head, *queue_tail;
static uint64_t time_limit;
static void (*all_ended)(void);

static void enqueue(struct vcpu *v)
{
    v->run_next = NULL;
    if (queue_tail)
        queue_tail->run_next = v;
    else
        queue_head = v;
    queue_tail = v;
}

static struct vcpu *dequeue(void)
{
    while (queue_head) {
        struct vcpu *v = queue_head;
        queue_head = v->run_next;
        if (!queue_head)
            queue_tail = NULL;
        if (v->state == VCPU_RUNNABLE)
            return v;
        /* Dead (its guest ended while it waited): drop it. */
    }
    return NULL;
}

static void slice_over(uint64_t now)
{
    (void)now;
    this_cpu()->need_resched = true;
}

void sched_init(uint64_t time_limit_ns)
{
    time_limit = time_limit_ns;
    timer_set_handler(slice_over);
}

static void enforce_time_limit(uint64_t now)
{
    if (!time_limit || now < time_limit)
        return;
    time_limit = 0;
    log_warn("time limit of hv.cfg reached: stopping the guests still running");
    for (struct guest *g = guest_list(); g; g = g->next)
        guest_end(g, GUEST_FAULTED, -1, "stopped: hv.cfg time_limit_ms reached");
}

void sched_add(struct vcpu *v)
{
    v->state = VCPU_RUNNABLE;
    enqueue(v);
}

uint64_t sched_vcpu_time(const struct vcpu *v)
{
    if (v->state == VCPU_RUNNING)
        return v->cpu_time_ns + (time_now_ns() - v->running_since);
    return v->cpu_time_ns;
}

void sched_yield(void)
{
    this_cpu()->need_resched = true;
}

void sched_vcpu_stop(struct vcpu *v)
{
    v->cpu_time_ns = sched_vcpu_time(v);
    v->state = VCPU_DEAD;
    this_cpu()->need_resched = true;
    guest_vcpu_stopped(v->guest);
}

/* Frees every ended guest; only called on page tables no ended guest owns. */
static void reap_guests(void)
{
    if (!guests_to_reap())
        return;
    for (struct guest *g = guest_list(); g; g = g->next)
        if (g->end != GUEST_ALIVE && !g->memory_freed)
            guest_free_memory(g);
}

static void leave_guest_tables(void)
{
    idt_set_fast_gate(0);
    uint64_t kernel = kernel_space()->root_phys;
    if (read_cr3() != kernel)
        write_cr3(kernel);
}

static void __attribute__((noreturn)) finish(void)
{
    leave_guest_tables();
    reap_guests();
    timer_arm(0);
    all_ended();
    halt_forever(); /* all_ended must not return; stop here if it does */
}

/* After idling, time has moved on; otherwise `now` is still good enough and
 * saves reading the clock again. */
static bool idled;

static uint64_t next_now(uint64_t now)
{
    if (!idled)
        return now;
    idled = false;
    return time_now_ns();
}

static void switch_to(struct vcpu *next, struct trap_frame *f, uint64_t now)
{
    struct percpu *cpu = this_cpu();
    uint64_t root = vcpu_space_root(next);
    if (read_cr3() != root)
        write_cr3(root);
    vcpu_load(next, f);
    next->state = VCPU_RUNNING;
    next->running_since = now;
    cpu->current = next;
    reap_guests(); /* the CPU is on next's tables now, never a dead guest's */
    timer_arm_from(now, now + SCHED_SLICE_NS);
}

void sched_return_to_guest(struct trap_frame *f)
{
    struct percpu *cpu = this_cpu();
    struct vcpu *cur = cpu->current;
    bool cur_runs = cur && cur->state == VCPU_RUNNING;

    if (cur_runs && !cpu->need_resched) {
        f->rflags = vcpu_sanitize_rflags(f->rflags);
        return;
    }
    cpu->need_resched = false;
    log_flush(); /* at most once a slice: the screen catches up (cheap if nothing to do) */
    uint64_t now = time_now_ns();
    enforce_time_limit(now);
    cur_runs = cur && cur->state == VCPU_RUNNING;
    if (cur_runs) {
        cur->cpu_time_ns += now - cur->running_since;
        cur->state = VCPU_RUNNABLE;
        enqueue(cur);
    }
    struct vcpu *next = dequeue();
    if (next == cur && cur_runs) {
        /* The only runnable vCPU: it keeps the CPU for another slice. */
        cur->state = VCPU_RUNNING;
        cur->running_since = now;
        timer_arm_from(now, now + SCHED_SLICE_NS);
        f->rflags = vcpu_sanitize_rflags(f->rflags);
        return;
    }
    if (cur_runs)
        vcpu_save(cur, f);
    cpu->current = NULL;
    while (!next) {
        leave_guest_tables();
        reap_guests();
        if (guests_alive() == 0)
            finish();
        /* Nothing runnable, guests waiting: sleep until an interrupt. */
        __asm__ volatile("sti; hlt; cli" ::: "memory");
        idled = true;
        next = dequeue();
    }
    switch_to(next, f, next_now(now));
}

void sched_start(void (*ended)(void))
{
    all_ended = ended;
    struct percpu *cpu = this_cpu();
    struct trap_frame *f = (struct trap_frame *)(cpu->kernel_rsp - sizeof(*f));
    cpu->current = NULL;
    cpu->need_resched = true;
    sched_return_to_guest(f);
    enter_guest_frame(f);
}
