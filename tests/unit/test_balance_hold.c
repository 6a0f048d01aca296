/* hv/sched/balance.c, compiled whole for the host: the per-vCPU hold-off
 * of load balancing (may_move, BALANCE_HOLD_NS). A vCPU that moved less
 * than the hold-off ago stays where it is, however idle another CPU; at
 * the hold-off's end it may move again; one that never moved may move at
 * once. The scene: CPU 0 runs guest A's vCPU and has guest B's waiting
 * (load 2), CPU 1 runs guests and is idle (load 0): sched_balance on CPU
 * 0 sends B's vCPU to CPU 1 unless the hold-off keeps it.
 *
 * this_cpu() reads %gs:0 as in hv: the test points the host thread's GS
 * base at CPU 0's struct percpu (arch_prctl), whose first word is itself. */
#include <asm/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "hv/sched/cross_cpu.h"
#include "hv/sched/sched_internal.h"

#define MS 1000000ull
#define HOLD_NS (20 * MS) /* BALANCE_HOLD_NS */

/* What balance.c reaches outside itself (placement.c and fair.c are
 * linked as they are). */
struct percpu *percpu_by_index[PERCPU_MAX];
uint32_t percpu_count;
bool sched_partitioned;
static struct vcpu *pushed;
static unsigned pushes;

void sched_push_queued(struct vcpu *v)
{
    pushed = v;
    pushes++;
}

void sched_add_here(struct vcpu *v)
{
    (void)v;
    abort(); /* sched_move_in: not called here */
}

void vtimer_armed_at(struct vcpu *v, uint64_t deadline)
{
    (void)v;
    (void)deadline;
    abort();
}

static struct percpu cpus[2];
static struct guest *ga, *gb;
static struct vcpu *va, *vb;

static struct guest *guest_new(void)
{
    struct guest *g = calloc(1, sizeof(*g));
    g->end = GUEST_ALIVE;
    g->weight = 256;
    g->cpus = ~0ull;
    g->vcpu_count = 1;
    return g;
}

static struct vcpu *vcpu_new(struct guest *g, enum vcpu_state state)
{
    struct vcpu *v = aligned_alloc(512, (sizeof(*v) + 511) & ~511ul);
    memset(v, 0, sizeof(*v));
    v->guest = g;
    v->state = state;
    v->ent = &v->own_ent;
    fair_entity_init(&v->own_ent.fair, g->weight);
    v->own_ent.guest = g;
    v->own_ent.vcpus_wanting = 1;
    g->vcpus[0] = v;
    g->vcpu_cpu[0] = 0;
    return v;
}

/* CPU 0: A's vCPU running, B's waiting in its entity's round robin, both
 * entities on the fair queue; CPU 1 open and idle. vb->moved_ns as given. */
static void scene(uint64_t moved_ns)
{
    memset(cpus, 0, sizeof(cpus));
    for (uint32_t i = 0; i < 2; i++) {
        cpus[i].self = &cpus[i];
        cpus[i].index = i;
        fair_queue_init(&cpus[i].sched.fair_queue);
        cpus[i].sched.runs_guests = true;
        percpu_by_index[i] = &cpus[i];
    }
    percpu_count = 2;
    free(ga), free(gb), free(va), free(vb);
    ga = guest_new(), gb = guest_new();
    va = vcpu_new(ga, VCPU_RUNNING);
    vb = vcpu_new(gb, VCPU_RUNNABLE);
    vb->moved_ns = moved_ns;
    vb->own_ent.run_head = vb->own_ent.run_tail = vb;
    struct sched_cpu *sc = &cpus[0].sched;
    fair_enqueue(&sc->fair_queue, &va->own_ent.fair);
    fair_enqueue(&sc->fair_queue, &vb->own_ent.fair);
    sc->nr_wanting = 2;
    sc->vcpus_placed = 2;
    cpus[0].current = va;
    pushed = NULL;
    pushes = 0;
}

static bool moved(void)
{
    return pushes == 1 && pushed == vb && vb->cpu == 1 && (vb->remote_req & VCPU_REQ_MOVE) &&
           cpus[0].sched.nr_wanting == 1 && vb->own_ent.vcpus_wanting == 0 &&
           cpus[1].sched.balance_incoming && cpus[1].sched.vcpus_placed == 1;
}

static bool stayed(void)
{
    return pushes == 0 && vb->cpu == 0 && vb->remote_req == 0 && cpus[0].sched.nr_wanting == 2 &&
           vb->own_ent.run_head == vb && !cpus[1].sched.balance_incoming;
}

static const uint64_t NOW = 1000 * MS;

static void never_moved_moves_at_once(void)
{
    scene(0);
    sched_balance(NOW);
    CHECK(moved());
    CHECK_EQ_U64(vb->moved_ns, NOW); /* its hold-off starts */
}

static void moved_within_hold_off_stays(void)
{
    const uint64_t ago[] = {0, 1, 5 * MS, HOLD_NS - 1};
    for (unsigned i = 0; i < sizeof(ago) / sizeof(ago[0]); i++) {
        scene(NOW - ago[i]);
        sched_balance(NOW);
        CHECK(stayed());
        CHECK_EQ_U64(vb->moved_ns, NOW - ago[i]);
    }
}

static void moved_after_hold_off_moves(void)
{
    const uint64_t ago[] = {HOLD_NS, HOLD_NS + 1, 500 * MS};
    for (unsigned i = 0; i < sizeof(ago) / sizeof(ago[0]); i++) {
        scene(NOW - ago[i]);
        sched_balance(NOW);
        CHECK(moved());
        CHECK_EQ_U64(vb->moved_ns, NOW);
    }
}

/* The same vCPU across time: moved at NOW, back on CPU 0's queue (as if
 * CPU 1 had handed it back), held until NOW + hold-off, then free. */
static void hold_off_runs_from_the_last_move(void)
{
    scene(0);
    sched_balance(NOW);
    CHECK(moved());
    scene(NOW);
    sched_balance(NOW + HOLD_NS / 2);
    CHECK(stayed());
    sched_balance(NOW + HOLD_NS - 1);
    CHECK(stayed());
    sched_balance(NOW + HOLD_NS);
    CHECK(moved());
}

int main(void)
{
    check_suite = "balance_hold";
    if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)&cpus[0]) != 0) {
        CHECK(!"arch_prctl(ARCH_SET_GS)");
        return check_finish();
    }
    RUN_TEST(never_moved_moves_at_once);
    RUN_TEST(moved_within_hold_off_stays);
    RUN_TEST(moved_after_hold_off_moves);
    RUN_TEST(hold_off_runs_from_the_last_move);
    free(ga), free(gb), free(va), free(vb);
    return check_finish();
}
