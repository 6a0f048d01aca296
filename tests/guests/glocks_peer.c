/* glocks-race's partner (tests/guests/glocks_race.c, issue 13): four vCPUs
 * that bind, send on and close the ports glocks-race's four vCPUs set aside
 * for it, while those close and reallocate them, so binds and closes of
 * one connection meet on two guests' tables from up to eight CPUs (both
 * guests' event-channel locks, the lower guest id first). With hv.cfg
 * `monitor = yes` its vCPUs also read every guest's health log while
 * glocks-restart ends on other CPUs (the log's seqlock): each entry read
 * must be whole (its index the one asked for, its guest's id and a name).
 * Every answer must be one the ABI allows; vCPU 0 then closes every port
 * and prints
 *     glocks-peer: all N checks passed */
#define GLOCKS_NAME "glocks-peer"
#include "glocks_common.h"
#include "hvg_event.h"

HV_GUEST_NOTE("glocks-peer", HVG_MIB(4), 4, 0);

#define CALLS 3000

static volatile unsigned finished, health_entries;

/* Every guest's log, from its first entry: ids 0.. until -ESRCH. */
static void read_health(unsigned vcpu)
{
    struct hv_health_entry e[4];
    for (uint64_t id = 0; id < 16; id++) {
        int64_t rc = hvg_health_read(id, 0, e, 4);
        if (rc == -HV_ESRCH || rc == -HV_EPERM)
            return; /* the last guest, or no monitor privilege in this boot */
        check(vcpu, "HEALTH_READ", rc, (rc >= 0 && rc <= 4) || rc == -HV_EAGAIN);
        for (int64_t k = 0; k < rc; k++) {
            bool whole = e[k].guest_id == id && e[k].name[0] && e[k].event <= HV_HEALTH_STOPPED;
            check(vcpu, "HEALTH_READ entry", (int64_t)e[k].index, whole);
            __atomic_fetch_add(&health_entries, 1, __ATOMIC_RELAXED);
        }
    }
}

static void race(unsigned vcpu)
{
    uint64_t seed = 0xd1b54a32d192ed03ull * (vcpu + 1);
    int64_t mine = -1;
    for (int i = 0; i < CALLS; i++) {
        uint64_t r = next_random(&seed);
        int64_t rc;
        switch (r % 6) {
        case 0:
        case 1:
            /* A port glocks-race may have set aside for this guest. */
            rc = hvg_evtchn_bind_peer("glocks-race", (r >> 8) % 48);
            /* -EINVAL: not offered (or taken); -ESRCH: glocks-race ended */
            check(vcpu, "BIND_PEER", rc, (rc >= 0 && rc < HV_EVTCHN_PORTS) || rc == -HV_EINVAL ||
                                             rc == -HV_ESRCH || rc == -HV_ENOMEM);
            if (rc >= 0)
                mine = rc;
            break;
        case 2:
            if (mine >= 0) {
                rc = hvg_evtchn_send((uint64_t)mine);
                check(vcpu, "SEND", rc, rc == 0 || rc == -HV_EINVAL);
            }
            break;
        case 3:
            rc = hvg_evtchn_close((r >> 8) % 48);
            check(vcpu, "CLOSE", rc, rc == 0 || rc == -HV_EINVAL || rc == -HV_EAGAIN);
            break;
        case 4:
            rc = hvg_evtchn_alloc_unbound("glocks-race");
            check(vcpu, "ALLOC_UNBOUND", rc, (rc >= 0 && rc < HV_EVTCHN_PORTS) ||
                                                 rc == -HV_ESRCH || rc == -HV_ENOMEM);
            break;
        default:
            if (i % 32 == 5)
                read_health(vcpu);
            break;
        }
    }
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    expect_vcpus(si, vcpu);
    race(vcpu);
    __atomic_fetch_add(&finished, 1, __ATOMIC_ACQ_REL);
    if (vcpu != 0)
        return 0;
    wait_for(&finished, VCPUS);
    for (uint64_t p = 0; p < HV_EVTCHN_PORTS; p++) {
        int64_t rc = hvg_evtchn_close(p);
        check(0, "CLOSE at the end", rc, rc == 0 || rc == -HV_EINVAL);
    }
    hvg_printf("glocks-peer: %u checks, %u failed, %u health entries read\n", checks, bad,
               health_entries);
    if (bad)
        return 1;
    hvg_printf("glocks-peer: all %u checks passed\n", checks);
    return 0;
}
