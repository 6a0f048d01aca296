#include "hv/sched/sched.h"

#include "hv/console/input.h"
#include "hv/console/log.h"
#include "hv/cpu/idt.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/x86.h"
#include "hv/event/evtchn.h"
#include "hv/guest/guest.h"
#include "hv/mm/mm.h"
#include "hv/sched/partition.h"
#include "hv/sched/runstate.h"
#include "hv/time/time.h"
#include "vcpu/deliver.h"
#include "lib/string.h"
#include "vcpu/vcpu.h"

void enter_guest_frame(struct trap_frame *f) __attribute__((noreturn));

static struct vcpu *queue_head, *queue_tail;
static uint64_t time_limit;
static void (*all_ended)(void);
static uint64_t slice_end;      /* 0: no vCPU holds a slice */
/* The partition schedule, when hv.cfg asks for one. */
static struct partition_plan plan;
static struct guest *window_owner[PARTITION_MAX_WINDOWS];
static uint64_t plan_start;
static uint64_t window_boundary; /* next window change; 0 without a plan */
static unsigned vtimers_armed;  /* vCPUs with a timer or a poll deadline */

static void enqueue(struct vcpu *v)
{
    v->run_next = NULL;
    if (queue_tail)
        queue_tail->run_next = v;
    else
        queue_head = v;
    queue_tail = v;
}

/* A vCPU that was woken goes first: it waited, and latency to its event is
 * what the event is for. It still runs only a slice at a time. */
static void enqueue_front(struct vcpu *v)
{
    v->run_next = queue_head;
    queue_head = v;
    if (!queue_tail)
        queue_tail = v;
}

/* The first runnable vCPU of guest `owner` in the queue, taken out. */
static struct vcpu *dequeue_of(struct guest *owner)
{
    struct vcpu *prev = NULL;
    for (struct vcpu *v = queue_head; v; prev = v, v = v->run_next) {
        if (v->guest != owner || v->state != VCPU_RUNNABLE)
            continue;
        if (prev)
            prev->run_next = v->run_next;
        else
            queue_head = v->run_next;
        if (queue_tail == v)
            queue_tail = prev;
        return v;
    }
    return NULL;
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

/* Set by anything an interrupt does that could give the idle loop work:
 * a wake-up, a timer (a window boundary, a slice). */
static volatile bool idle_kick;

static bool something_runnable(void)
{
    return idle_kick;
}

static bool vtimer_armed(const struct vcpu *v)
{
    return v->ev.timer_deadline || (v->ev.polling && v->ev.poll_deadline);
}

static void wake(struct vcpu *v, uint64_t now)
{
    if (v->state != VCPU_BLOCKED)
        return;
    if (v->ev.polling) {
        v->ev.polling = false;
        if (v->ev.poll_deadline)
            vtimers_armed--;
    }
    v->state = VCPU_RUNNABLE;
    runstate_enter(v, HV_RUNSTATE_RUNNABLE, now);
    enqueue_front(v);
    this_cpu()->need_resched = true;
    idle_kick = true;
}

void sched_event_arrived(struct vcpu *v, unsigned port, bool notified)
{
    if (v->state != VCPU_BLOCKED || (!v->ev.polling && !notified))
        return;
    if (v->ev.polling) {
        bool watched = false;
        for (unsigned i = 0; i < v->ev.poll_count; i++)
            watched |= v->ev.poll_ports[i] == port;
        if (!watched)
            return;
        v->arch.regs.rax = 0; /* HV_CALL_POLL returns 0: an event came */
    }
    wake(v, time_now_ns());
}

/* Expired vCPU timers and poll deadlines; returns the earliest one left. */
static uint64_t run_vtimers(uint64_t now)
{
    uint64_t next = 0;
    if (!vtimers_armed)
        return 0;
    for (struct guest *g = guest_list(); g; g = g->next) {
        if (g->end != GUEST_ALIVE)
            continue;
        for (uint32_t i = 0; i < g->vcpu_count; i++) {
            struct vcpu *v = g->vcpus[i];
            if (v->ev.timer_deadline && v->ev.timer_deadline <= now) {
                v->ev.timer_deadline = 0;
                vtimers_armed--;
                evtchn_raise_virq(v, HV_VIRQ_TIMER);
            }
            if (v->ev.polling && v->ev.poll_deadline && v->ev.poll_deadline <= now &&
                v->state == VCPU_BLOCKED) {
                v->arch.regs.rax = (uint64_t)-HV_ETIMEDOUT;
                wake(v, now);
            }
            if (v->ev.timer_deadline && (!next || v->ev.timer_deadline < next))
                next = v->ev.timer_deadline;
            if (v->ev.polling && v->ev.poll_deadline && (!next || v->ev.poll_deadline < next))
                next = v->ev.poll_deadline;
        }
    }
    return next;
}

/* One-shot to the next decision: the slice's end or a vCPU's timer,
 * whichever comes first; nothing at all when neither is due (no tick). */
static uint64_t next_console_poll;

/* Console input has no interrupt here: look at the UART every 20 ms, and
 * only while a guest listens for it. */
static uint64_t poll_console(uint64_t now)
{
    if (!console_listeners) {
        next_console_poll = 0;
        return 0;
    }
    if (now >= next_console_poll) {
        console_input_poll();
        next_console_poll = now + CONSOLE_POLL_NS;
    }
    return next_console_poll;
}

static void rearm(uint64_t now)
{
    uint64_t next = run_vtimers(now);
    uint64_t poll = poll_console(now);
    if (poll && (!next || poll < next))
        next = poll;
    uint64_t when = slice_end;
    if (next && (!when || next < when))
        when = next;
    if (window_boundary && (!when || window_boundary < when))
        when = window_boundary;
    if (when && when == next)
        timer_arm(when); /* a guest's deadline: measured from the clock as it is now */
    else
        timer_arm_from(now, when); /* a slice end: `now` is close enough, and cheaper */
}

static void timer_fired(uint64_t now)
{
    idle_kick = true;
    /* A passed slice end or window boundary is consumed here: the
     * reschedule it asks for sets the next one. Left in place, it would
     * re-arm the timer in the past, and an interrupt taken in hv's idle
     * loop (interrupts on) would fire again at once, for ever. */
    if (slice_end && now >= slice_end) {
        slice_end = 0;
        this_cpu()->need_resched = true;
    }
    if (window_boundary && now >= window_boundary) {
        window_boundary = 0;
        this_cpu()->need_resched = true;
    }
    rearm(now);
}

/* Whose window it is now (NULL: a gap, or no such guest); sets the next
 * boundary. Without a plan, everyone's. */
static bool partition_current(uint64_t now, struct guest **owner)
{
    if (!plan.enabled)
        return false;
    uint64_t until;
    const struct partition_window *w = partition_at(&plan, now - plan_start, &until);
    window_boundary = now + until;
    *owner = w ? window_owner[w - plan.w] : NULL;
    return true;
}

static struct vcpu *pick_next(uint64_t now)
{
    struct guest *owner;
    if (!partition_current(now, &owner))
        return dequeue();
    return owner ? dequeue_of(owner) : NULL;
}

void sched_set_partitions(const struct partition_plan *p)
{
    plan = *p;
    plan_start = time_now_ns();
    for (unsigned i = 0; i < plan.count; i++) {
        window_owner[i] = NULL;
        for (struct guest *g = guest_list(); g; g = g->next)
            if (g->end == GUEST_ALIVE && strcmp(g->name, plan.w[i].guest) == 0)
                window_owner[i] = g;
        if (!window_owner[i])
            log_warn("schedule: no guest %s for the window at %lu ms; it stays idle",
                     plan.w[i].guest, (unsigned long)(plan.w[i].offset_ns / 1000000));
    }
    log_info("schedule: partitioned, major frame %lu ms, %u window(s), from system time %lu ns",
             (unsigned long)(plan.major_frame_ns / 1000000), plan.count,
             (unsigned long)plan_start);
}

void sched_init(uint64_t time_limit_ns)
{
    time_limit = time_limit_ns;
    timer_set_handler(timer_fired);
}

void sched_set_vcpu_timer(struct vcpu *v, uint64_t deadline)
{
    bool was = vtimer_armed(v);
    v->ev.timer_deadline = deadline;
    vtimers_armed += (unsigned)vtimer_armed(v) - (unsigned)was;
    rearm(time_now_ns());
}

void sched_block(struct vcpu *v, bool poll, uint64_t poll_deadline)
{
    uint64_t now = time_now_ns();
    v->cpu_time_ns += now - v->running_since;
    v->state = VCPU_BLOCKED;
    runstate_enter(v, HV_RUNSTATE_BLOCKED, now);
    v->ev.polling = poll;
    v->ev.poll_deadline = poll ? poll_deadline : 0;
    if (poll && poll_deadline)
        vtimers_armed++;
    this_cpu()->need_resched = true;
    if (poll && poll_deadline)
        rearm(now);
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
    runstate_enter(v, HV_RUNSTATE_RUNNABLE, time_now_ns());
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
    if (vtimer_armed(v))
        vtimers_armed--;
    v->ev.timer_deadline = 0;
    v->ev.polling = false;
    v->state = VCPU_DEAD;
    runstate_enter(v, HV_RUNSTATE_OFFLINE, time_now_ns());
    this_cpu()->need_resched = true;
    guest_vcpu_stopped(v->guest);
}

void sched_guest_ended(struct guest *g)
{
    for (uint32_t i = 0; i < g->vcpu_count; i++)
        if (vtimer_armed(g->vcpus[i]))
            vtimers_armed--;
    evtchn_guest_ended(g);
}

/* One bounded step of freeing an ended guest's memory (a big guest takes
 * many: hv runs this with interrupts off); only called on page tables no
 * ended guest owns. */
static void reap_guests(void)
{
    if (!guests_to_reap())
        return;
    for (struct guest *g = guest_list(); g; g = g->next)
        if (g->end != GUEST_ALIVE && !g->memory_freed) {
            guest_free_memory(g);
            return;
        }
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
    while (guests_to_reap()) {
        reap_guests();
        irq_enable(); /* an interrupt-window between bounded steps */
        irq_disable();
    }
    slice_end = 0;
    timer_arm(0);
    all_ended();
    halt_forever(); /* all_ended must not return; stop here if it does */
}

static uint64_t slice_until(const struct vcpu *v, uint64_t now)
{
    uint64_t end = now + v->guest->slice_ns;
    return window_boundary && window_boundary < end ? window_boundary : end;
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
    runstate_enter(next, HV_RUNSTATE_RUNNING, now);
    cpu->current = next;
    reap_guests(); /* the CPU is on next's tables now, never a dead guest's */
    slice_end = slice_until(next, now);
    rearm(now);
}

/* Events waiting for the vCPU about to run, and not masked: enter its
 * upcall as an interrupt would (the return will be an iretq). */
static void deliver_upcall(struct vcpu *v, struct trap_frame *f)
{
    struct hv_vcpu_shared *vs = &v->guest->shared->vcpu[v->id];
    if (vs->upcall_pending && !vs->upcall_mask && v->ev.upcall)
        deliver_to_kernel(v, f, v->ev.upcall, true, false, 0, "an event upcall");
}

/* Picks what runs next and loads it into f. */
static void reschedule(struct trap_frame *f)
{
    struct percpu *cpu = this_cpu();
    struct vcpu *cur = cpu->current;
    cpu->need_resched = false;
    uint64_t now = time_now_ns();
    enforce_time_limit(now);
    if (cur && cur->state == VCPU_RUNNING) {
        cur->cpu_time_ns += now - cur->running_since;
        cur->state = VCPU_RUNNABLE;
        runstate_enter(cur, HV_RUNSTATE_RUNNABLE, now);
        enqueue(cur);
    }
    struct vcpu *next = pick_next(now);
    if (next == cur && cur) {
        /* The only runnable vCPU: it keeps the CPU for another slice. */
        cur->state = VCPU_RUNNING;
        cur->running_since = now;
        runstate_enter(cur, HV_RUNSTATE_RUNNING, now);
        slice_end = slice_until(cur, now);
        rearm(now);
        f->rflags = vcpu_sanitize_rflags(f->rflags);
        return;
    }
    /* A vCPU that is off the CPU keeps its registers, blocked or not. */
    if (cur && cur->state != VCPU_DEAD)
        vcpu_save(cur, f);
    cpu->current = NULL;
    slice_end = 0;
    while (!next) {
        leave_guest_tables();
        reap_guests();
        if (guests_alive() == 0)
            finish();
        if (window_boundary && now >= window_boundary)
            next = pick_next(now); /* the window changed while idle */
        if (next)
            break;
        idle_kick = false;
        rearm(now);
        /* Nothing can run (nothing runnable, or not in its partition's
         * window): the screen catches up, with interrupts on so a timer cuts
         * it short, then sleep until an interrupt gives work. */
        irq_enable();
        log_flush_idle(something_runnable);
        irq_disable();
        if (!idle_kick && !guests_to_reap()) /* reaping goes on in idle time */
            __asm__ volatile("sti; hlt; cli" ::: "memory");
        now = time_now_ns();
        next = pick_next(now);
    }
    switch_to(next, f, now);
}

void sched_return_to_guest(struct trap_frame *f)
{
    struct percpu *cpu = this_cpu();
    for (;;) {
        struct vcpu *cur = cpu->current;
        if (cpu->need_resched || !cur || cur->state != VCPU_RUNNING)
            reschedule(f);
        else
            f->rflags = vcpu_sanitize_rflags(f->rflags);
        deliver_upcall(cpu->current, f);
        /* An upcall that could not be delivered ended the guest: choose
         * again. */
        if (cpu->current->state == VCPU_RUNNING)
            return;
    }
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
