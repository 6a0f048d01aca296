/* Virtual time of two guests sharing the CPU. One image, booted as
 * "ev-vtime-a" and "ev-vtime-b" with hv.cfg
 *     [shm vt]
 *     size = 4K
 *     map = ev-vtime-a:rw ev-vtime-b:ro
 * ev-vtime-a picks a window [t1, t1 + WINDOW_MS) of system time a little
 * ahead and publishes it; both spin through it (no hypercall) and read their
 * run-state times at both ends. Each prints the figures the system test
 * judges (running time below the window, the two together about the
 * window) and checks what it can alone: running time below real time, the
 * four states adding up to the window, some time spent runnable (the other
 * guest had the CPU then). */
#include "ev_common.h"

#define WINDOW_MS 600
#define LEAD_MS 50

struct vt_shm {
    uint64_t t1; /* 0 until ev-vtime-a sets it */
};

struct sample {
    uint64_t now;
    struct hv_runstate rs;
};

static struct sample take(unsigned vcpu)
{
    struct sample s;
    s.rs = hvg_runstate(vcpu);
    s.now = hvg_now();
    return s;
}

static uint64_t spent(const struct sample *a, const struct sample *b, unsigned kind)
{
    return hvg_runstate_ns(&b->rs, kind, b->now) - hvg_runstate_ns(&a->rs, kind, a->now);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = si->name;
    bool leader = strcmp(si->name, "ev-vtime-a") == 0;
    volatile struct vt_shm *vt = ev_shm("vt", sizeof(struct vt_shm), leader);

    uint64_t t1;
    if (leader) {
        t1 = hvg_now() + HVG_MS(LEAD_MS);
        __atomic_store_n(&vt->t1, t1, __ATOMIC_RELEASE);
    } else {
        uint64_t give_up = hvg_now() + EV_TIMEOUT_NS;
        while ((t1 = __atomic_load_n(&vt->t1, __ATOMIC_ACQUIRE)) == 0) {
            if (hvg_now() > give_up) {
                expect_true("ev-vtime-a publishes the window", false);
                return pv_finish();
            }
            hvg_yield();
        }
    }
    uint64_t t2 = t1 + HVG_MS(WINDOW_MS);
    expect_true("the window lies ahead", hvg_now() < t1);

    ev_spin_until(t1);
    struct sample a = take(vcpu);
    ev_spin_until(t2);
    struct sample b = take(vcpu);

    uint64_t real = b.now - a.now;
    uint64_t running = spent(&a, &b, HV_RUNSTATE_RUNNING);
    uint64_t runnable = spent(&a, &b, HV_RUNSTATE_RUNNABLE);
    uint64_t blocked = spent(&a, &b, HV_RUNSTATE_BLOCKED);
    uint64_t offline = spent(&a, &b, HV_RUNSTATE_OFFLINE);
    hvg_printf("%s: window %llu ns: running %llu ns, runnable %llu ns, blocked %llu ns, "
               "offline %llu ns\n", pv_name, (unsigned long long)real,
               (unsigned long long)running, (unsigned long long)runnable,
               (unsigned long long)blocked, (unsigned long long)offline);
    expect_true("running time below real time", running < real);
    expect_true("some time runnable (the other guest ran)", runnable > 0);
    uint64_t sum = running + runnable + blocked + offline;
    uint64_t diff = sum > real ? sum - real : real - sum;
    hvg_printf("%s: the four states add up to %llu ns, %llu ns off the window\n", pv_name,
               (unsigned long long)sum, (unsigned long long)diff);
    expect_true("the four states add up to the window (within 1 ms)", diff <= HVG_MS(1));
    expect_eq("state while reading it", b.rs.state, HV_RUNSTATE_RUNNING);
    return pv_finish();
}
