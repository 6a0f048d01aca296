/* The scheduler's side of placement (hv/sched/placement.h holds the pure
 * rules): which CPUs run guests, a new guest's vCPUs placed on them, each
 * vCPU bound to its guest's entity on its CPU, and the summary's per-CPU
 * lines. Runs at a guest's load, restart and end, and once at the summary:
 * built for size, off every hot path. */
#include "hv/console/log.h"
#include "hv/cpu/percpu.h"
#include "hv/guest/guest.h"
#include "hv/sched/placement.h"
#include "hv/sched/sched.h"
#include "hv/sched/sched_internal.h"
#include "hv/time/time.h"
#include "vcpu/vcpu.h"

uint64_t sched_guest_cpus(void)
{
    /* The boot CPU's starts with the guests; an AP's is ready before the
     * AP is counted (sched_ap_prepare), so every CPU that came up runs
     * guests. */
    uint64_t set = 1;
    for (uint32_t c = 1; c < percpu_count && c < CPU_SET_MAX; c++)
        if (__atomic_load_n(&percpu_by_index[c]->sched.runs_guests, __ATOMIC_ACQUIRE))
            set |= 1ull << c;
    return set;
}

void sched_guest_init(struct guest *g, uint32_t weight, uint64_t cpus)
{
    g->slice_ns = sched_slice_for_weight(weight);
    g->weight = weight;
    uint64_t usable = sched_guest_cpus();
    g->cpus = cpus && (cpus & usable) ? cpus & usable : usable;
    /* Each vCPU on the CPU of its affinity with the fewest vCPUs placed
     * (hv/sched/placement.h), decided once: a restart keeps it. */
    uint32_t n = percpu_count < CPU_SET_MAX ? percpu_count : CPU_SET_MAX;
    uint32_t placed[CPU_SET_MAX];
    for (uint32_t c = 0; c < n; c++)
        placed[c] = __atomic_load_n(&percpu_by_index[c]->sched.vcpus_placed, __ATOMIC_RELAXED);
    for (uint32_t i = 0; i < g->vcpu_count; i++) {
        int c = sched_place(g->cpus, placed, n);
        if (c < 0)
            c = 0; /* cannot happen: g->cpus holds a CPU in use */
        g->vcpu_cpu[i] = (uint8_t)c;
        placed[c]++;
        /* Atomic: a CPU moving a vCPU (balance.c) changes two counts. */
        __atomic_add_fetch(&percpu_by_index[c]->sched.vcpus_placed, 1, __ATOMIC_RELAXED);
    }
    g->placed = true;
}

void sched_guest_unplace(struct guest *g)
{
    if (!g->placed)
        return;
    g->placed = false;
    for (uint32_t i = 0; i < g->vcpu_count; i++)
        __atomic_sub_fetch(&percpu_by_index[g->vcpu_cpu[i]]->sched.vcpus_placed, 1,
                           __ATOMIC_RELAXED);
}

/* v on the CPU it was placed on, with its guest's entity there: its own
 * if it is the guest's first vCPU there (the callers add a guest's vCPUs
 * in order, so that one is set up before the others point to it). */
void sched_bind_entity(struct vcpu *v)
{
    struct guest *g = v->guest;
    uint32_t cpu = g->vcpu_cpu[v->id];
    uint32_t here = 0;
    struct vcpu *first = NULL;
    for (uint32_t i = 0; i < g->vcpu_count; i++)
        if (g->vcpu_cpu[i] == cpu) {
            here++;
            if (!first)
                first = g->vcpus[i];
        }
    v->cpu = cpu;
    if (first == v) {
        struct sched_entity *e = &v->own_ent;
        fair_entity_init(&e->fair, sched_weight_on_cpu(g->weight, here, g->vcpu_count));
        e->run_head = e->run_tail = NULL;
        e->guest = g;
        e->vcpus_wanting = 0;
    }
    v->ent = &first->own_ent;
}

bool sched_guest_wants_cpu(const struct guest *g)
{
    for (uint32_t i = 0; i < g->vcpu_count; i++) {
        const struct vcpu *v = g->vcpus[i];
        if (v && v->ent == &v->own_ent && v->own_ent.vcpus_wanting)
            return true;
    }
    return false;
}

void sched_report(void)
{
    uint64_t now = time_now_ns();
    uint32_t used = 0;
    for (uint32_t i = 0; i < percpu_count; i++)
        used += percpu_by_index[i]->sched.runs_guests;
    uint32_t moves = 0;
    for (uint32_t i = 0; i < percpu_count; i++)
        moves += percpu_by_index[i]->sched.moves_in;
    uint64_t ipis = 0, idle_timer = 0;
    for (uint32_t i = 0; i < percpu_count; i++) {
        ipis += percpu_by_index[i]->sched.ipis_sent;
        idle_timer += percpu_by_index[i]->sched.idle_timer_entries;
    }
    log_info("sched: guests ran on %u of %u CPU(s), %u vCPU move(s) between them", used,
             percpu_count, moves);
    log_info("sched: %lu reschedule IPI(s) sent", (unsigned long)ipis);
    log_info("sched: %lu vCPU(s) entered by the idle loop's timer path", (unsigned long)idle_timer);
    uint64_t backs = 0;
    for (uint32_t i = 0; i < percpu_count; i++)
        backs += percpu_by_index[i]->sched.handbacks;
    log_info("sched: %lu block(s) handed the CPU straight back", (unsigned long)backs);
    for (uint32_t i = 0; i < percpu_count; i++) {
        const struct percpu *cpu = percpu_by_index[i];
        const struct sched_cpu *sc = &cpu->sched;
        if (!sc->runs_guests) {
            log_info("sched:   CPU %u (APIC ID %u): runs no guests", i, cpu->apic_id);
            continue;
        }
        uint64_t span = now - sc->started_ns;
        uint64_t busy = span > sc->idle_ns ? span - sc->idle_ns : 0;
        uint64_t span_us = span / 1000;
        unsigned long pm = span_us ? (unsigned long)(busy / 1000 * 1000 / span_us) : 0;
        log_info("sched:   CPU %u (APIC ID %u): busy %lu.%06lu s of %lu.%06lu s (%lu.%lu %%), "
                 "%u vCPU(s) placed, %lu switch(es) to a vCPU",
                 i, cpu->apic_id, (unsigned long)(busy / 1000000000),
                 (unsigned long)(busy / 1000 % 1000000), (unsigned long)(span / 1000000000),
                 (unsigned long)(span / 1000 % 1000000), pm / 10, pm % 10, sc->vcpus_placed,
                 (unsigned long)sc->switches);
    }
}
