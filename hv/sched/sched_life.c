/* The scheduler's entry points off the decision's path (hv/sched/sched.c
 * decides who runs): its set-up, a vCPU added (here, or on its CPU through
 * the wake list), yield, a vCPU's CPU time, each CPU's scheduler start,
 * and a vCPU's stop (its own, or its guest's end: moved here from sched.c
 * in session 7, the stops are not on a switch's path).
 * Split from sched.c without touching the decision's code: none of these
 * was inlined into the decision, the switch, a wake-up or a block, whose
 * machine code is the same instruction for instruction (objdump of
 * sched.c.o before and after); only a guest end's stops now call
 * sched_vcpu_time instead of inlining it. */
#include "hv/cpu/percpu.h"
#include "hv/sched/cross_cpu.h"
#include "hv/sched/sched.h"
#include "hv/sched/sched_internal.h"
#include "hv/sched/runstate.h"
#include "hv/sched/sched_return.h"
#include "hv/time/time.h"
#include "vcpu/vcpu.h"

void enter_guest_frame(struct trap_frame *f) __attribute__((noreturn));
static void __attribute__((noreturn)) sched_enter_first(void);

void sched_init(uint64_t time_limit_ns)
{
    time_limit = time_limit_ns;
    fair_queue_init(&sched_this()->fair_queue);
    timer_set_handler(timer_fired);
    sched_cross_cpu_init();
}

void sched_add(struct vcpu *v)
{
    sched_bind_entity(v);
    if (v->cpu != this_cpu()->index)
        sched_remote_add(v);
    else
        sched_add_here(v);
}

uint64_t sched_vcpu_time(const struct vcpu *v)
{
    if (v->state == VCPU_RUNNING)
        return v->cpu_time_ns + (time_now_ns() - v->running_since);
    return v->cpu_time_ns;
}

void sched_yield(void)
{
    struct percpu *cpu = this_cpu();
    cpu->sched.yield_pending = true;
    cpu->need_resched = true;
}

void sched_return_to_guest(struct trap_frame *f)
{
    sched_return_inline(f);
}

void sched_start(void (*ended)(void))
{
    sched_all_ended = ended;
    struct percpu *cpu = this_cpu();
    cpu->sched.runs_guests = true;
    cpu->sched.started_ns = time_now_ns();
    sched_aps_go();
    sched_enter_first();
}

void sched_ap_start(void)
{
    sched_ap_wait_for_start();
    sched_enter_first();
}

static void __attribute__((noreturn)) sched_enter_first(void)
{
    struct percpu *cpu = this_cpu();
    /* No vCPU's: the first decision finds none to save and leaves from
     * the chosen one's own frame (sched.c leave_from), never from this. */
    struct trap_frame first = {0};
    struct trap_frame *f = &first;
    cpu->current = NULL;
    cpu->need_resched = true;
    sched_return_to_guest(f);
    enter_guest_frame(f);
}

bool sched_debug_last_end_race;

/* One function for both halves: each function costs hv's boot ~240
 * instructions (symtab_open walks every symbol). */
__attribute__((cold)) void sched_race_gap(bool idle)
{
    uint64_t until = time_now_ns() + (idle ? 5000000000ULL : 200000000ULL);
    while ((!idle || guests_alive()) && time_now_ns() < until)
        cpu_relax();
    /* What the test looks for: the race it sets up did happen. */
    if (idle && !guests_alive() && sched_this()->wake_list)
        log_info("sched: debug_last_end_race: the last end queued a stop here");
}

__attribute__((cold)) void sched_vcpu_stop(struct vcpu *v)
{
    struct percpu *cpu = this_cpu();
    v->cpu_time_ns = sched_vcpu_time(v);
    cpu->sched.vtimers_armed -= deadlines_armed(v);
    vtimer_forget(&cpu->sched, v);
    v->ev.timer_deadline = 0;
    v->ev.poll_deadline = 0;
    v->ev.polling = false;
    if (v->state == VCPU_RUNNING || v->state == VCPU_RUNNABLE)
        stops_wanting_cpu(&cpu->sched, v);
    v->state = VCPU_DEAD;
    runstate_enter(v, HV_RUNSTATE_OFFLINE, time_now_ns());
    cpu->need_resched = true;
    guest_vcpu_stopped(v->guest);
}

/* v's guest ended (cross_cpu.c: on v's CPU): its timers stop, it leaves
 * the CPU, and its time goes to its guest's. Once for each end. */
__attribute__((cold)) void sched_stop_here(struct vcpu *v)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    if (v->state != VCPU_DEAD) {
        v->cpu_time_ns = sched_vcpu_time(v);
        /* vtimers_armed counts deadlines, not vCPUs: a vCPU blocked in a
         * poll with a deadline may hold a timer deadline too. */
        sc->vtimers_armed -= deadlines_armed(v);
        vtimer_forget(sc, v);
        v->ev.timer_deadline = 0;
        v->ev.poll_deadline = 0;
        v->ev.polling = false;
        /* No entity: a restart's vCPU not added yet (the same guard). */
        if ((v->state == VCPU_RUNNING || v->state == VCPU_RUNNABLE) && v->ent)
            stops_wanting_cpu(sc, v);
        v->state = VCPU_DEAD;
        runstate_enter(v, HV_RUNSTATE_OFFLINE, time_now_ns());
        if (cpu->current == v)
            cpu->need_resched = true;
    }
    /* Its entity here, once none of its vCPUs wants the CPU, is out of the
     * fair queue; nothing may point to it when the guest is freed. */
    struct sched_entity *e = v->ent;
    if (e && !e->vcpus_wanting) {
        e->run_head = e->run_tail = NULL;
        if (sc->woken_first == e)
            sc->woken_first = NULL;
    }
    __atomic_add_fetch(&v->guest->cpu_time_ns, v->cpu_time_ns, __ATOMIC_RELAXED);
}
