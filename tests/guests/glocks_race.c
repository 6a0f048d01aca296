/* Four vCPUs of one guest making the same hypercalls on the same guest
 * state at once (issue 13, stream glocks; docs/design.md, "Locking"): once
 * APs run guests they run on up to four CPUs, and each race below is one
 * hv's per-guest locks must survive (tests/system/glocks_cases.py):
 *
 *   1. events: every vCPU allocates ports for glocks-peer (which binds them
 *      from its own four vCPUs, tests/guests/glocks_peer.c), binds IPIs and
 *      the console VIRQ, sends, asks the status of and closes random ports,
 *      its own and its siblings'. Every answer must be one the ABI allows.
 *   2. console: every vCPU writes 256-byte pieces of its own letter
 *      ('a' + vCPU, no newline: the open line fills and wraps at 160), and
 *      some whole lines, as fast as the rate lets it. Every answer is 1..256
 *      or -HV_EAGAIN; the judge checks every line hv printed for it is at
 *      most 160 characters of 'a'..'d' (two writers on one open line
 *      without the console lock run its length past hv's buffer).
 *   3. user spaces: every vCPU enters a home space of its own, then creates
 *      and destroys spaces and enters random handles.
 * At the end vCPU 0 closes every port (each then reads as free) and
 * destroys every space but the homes, and prints
 *     glocks-race: all N checks passed
 * hv's leak check at its end (the judge reads it) shows nothing kept. */
#define GLOCKS_NAME "glocks-race"
#include "glocks_common.h"
#include "hvg_cpu.h"
#include "hvg_event.h"

HV_GUEST_NOTE("glocks-race", HVG_MIB(4), 4, 0);

#define CONSOLE_CALLS 300
#define EVENT_CALLS 3000
#define SPACE_CALLS 600

static volatile unsigned arrived, finished;
static volatile int64_t homes[VCPUS];

/* Every vCPU arrives, then waits for the others. */
static void wait_all(volatile unsigned *counter, unsigned want)
{
    __atomic_fetch_add(counter, 1, __ATOMIC_ACQ_REL);
    wait_for(counter, want);
}

static void console_race(unsigned vcpu)
{
    char piece[HV_CONSOLE_WRITE_MAX];
    for (unsigned i = 0; i < sizeof(piece); i++)
        piece[i] = (char)('a' + vcpu);
    for (int i = 0; i < CONSOLE_CALLS; i++) {
        /* Every fourth call a whole line (the fast path), else a raw piece. */
        uint64_t len = sizeof(piece);
        if (i % 4 == 3) {
            len = 100;
            piece[len - 1] = '\n';
        }
        int64_t rc = hvg_console_write(piece, len);
        piece[len - 1] = (char)('a' + vcpu);
        check(vcpu, "CONSOLE_WRITE", rc, rc == -HV_EAGAIN || (rc >= 1 && (uint64_t)rc <= len));
        if (rc == -HV_EAGAIN)
            hvg_yield();
    }
}

static bool in(int64_t rc, int64_t a, int64_t b, int64_t c)
{
    return rc == a || rc == b || rc == c;
}

static void event_race(unsigned vcpu)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull * (vcpu + 1);
    for (int i = 0; i < EVENT_CALLS; i++) {
        uint64_t r = next_random(&seed);
        uint64_t port = (r >> 8) % 48; /* the low ports: where the others' bindings are */
        int64_t rc;
        struct hv_evtchn_status st;
        switch (r % 8) {
        case 0:
        case 1:
            rc = hvg_evtchn_alloc_unbound("glocks-peer");
            /* -ESRCH: the peer ended already; -ENOMEM: every port taken */
            check(vcpu, "ALLOC_UNBOUND", rc,
                  (rc >= 0 && rc < HV_EVTCHN_PORTS) || rc == -HV_ESRCH || rc == -HV_ENOMEM);
            break;
        case 2:
            rc = hvg_evtchn_bind_ipi((r >> 20) % VCPUS);
            check(vcpu, "BIND_IPI", rc, (rc >= 0 && rc < HV_EVTCHN_PORTS) || rc == -HV_ENOMEM);
            break;
        case 3:
            rc = hvg_evtchn_bind_virq(HV_VIRQ_CONSOLE);
            check(vcpu, "BIND_VIRQ", rc,
                  (rc >= 0 && rc < HV_EVTCHN_PORTS) || rc == -HV_EEXIST || rc == -HV_ENOMEM);
            break;
        case 4:
            rc = hvg_evtchn_send(port);
            check(vcpu, "SEND", rc, rc == 0 || rc == -HV_EINVAL);
            break;
        case 5:
            rc = hvg_evtchn_status(port, &st);
            check(vcpu, "STATUS", rc, rc == 0 && st.state <= HV_EVTCHN_CLOSED_PEER &&
                                          st.vcpu < VCPUS);
            break;
        default:
            rc = hvg_evtchn_close(port);
            check(vcpu, "CLOSE", rc, in(rc, 0, -HV_EINVAL, -HV_EAGAIN));
            break;
        }
        /* Events this storm raises on ports nobody handles stay pending:
         * they are cleared with the ports at the end. */
    }
}

static bool is_home(uint64_t h)
{
    for (unsigned v = 0; v < VCPUS; v++)
        if (homes[v] == (int64_t)h)
            return true;
    return false;
}

static void space_race(unsigned vcpu)
{
    uint64_t seed = 0x2545f4914f6cdd1dull * (vcpu + 1);
    for (int i = 0; i < SPACE_CALLS; i++) {
        uint64_t r = next_random(&seed);
        uint64_t h = 1 + (r >> 8) % HV_MAX_USER_SPACES;
        int64_t rc;
        switch (r % 3) {
        case 0:
            rc = hvg_user_space_create();
            check(vcpu, "USER_SPACE_CREATE", rc,
                  (rc >= 1 && rc <= HV_MAX_USER_SPACES) || rc == -HV_ENOMEM);
            break;
        case 1:
            /* Not a home: a vCPU visiting another handle leaves its home
             * free for a moment, and it must find it again. Else a space
             * another vCPU is in (-EBUSY), one another vCPU is destroying
             * (its steps, or -EINVAL once gone), or none. */
            if (is_home(h))
                break;
            do
                rc = hvg_hypercall1(HV_CALL_USER_SPACE_DESTROY, h);
            while (rc == HV_CONTINUE);
            check(vcpu, "USER_SPACE_DESTROY", rc, in(rc, 0, -HV_EINVAL, -HV_EBUSY));
            break;
        default:
            rc = hvg_set_user_space(h);
            check(vcpu, "SET_USER_SPACE", rc, rc == 0 || rc == -HV_EINVAL);
            /* Back home, so that the others' destroys of h can go on. */
            rc = hvg_set_user_space((uint64_t)homes[vcpu]);
            check(vcpu, "SET_USER_SPACE home", rc, rc == 0);
            break;
        }
    }
}

/* vCPU 0, the others done: close every port, destroy every space but the
 * homes; then every port must read free. */
static void tidy_up(void)
{
    for (uint64_t p = 0; p < HV_EVTCHN_PORTS; p++) {
        int64_t rc = hvg_evtchn_close(p);
        check(0, "CLOSE at the end", rc, rc == 0 || rc == -HV_EINVAL);
    }
    for (uint64_t p = 0; p < HV_EVTCHN_PORTS; p++) {
        struct hv_evtchn_status st;
        int64_t rc = hvg_evtchn_status(p, &st);
        check(0, "STATUS at the end", rc, rc == 0 && st.state == HV_EVTCHN_FREE);
    }
    for (uint64_t h = 1; h <= HV_MAX_USER_SPACES; h++) {
        if (is_home(h))
            continue;
        int64_t rc;
        do
            rc = hvg_hypercall1(HV_CALL_USER_SPACE_DESTROY, h);
        while (rc == HV_CONTINUE);
        check(0, "USER_SPACE_DESTROY at the end", rc, rc == 0 || rc == -HV_EINVAL);
    }
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    expect_vcpus(si, vcpu);
    homes[vcpu] = hvg_user_space_create();
    check(vcpu, "home USER_SPACE_CREATE", homes[vcpu], homes[vcpu] >= 1);
    check(vcpu, "home SET_USER_SPACE", 0, hvg_set_user_space((uint64_t)homes[vcpu]) == 0);
    wait_all(&arrived, VCPUS);
    event_race(vcpu); /* first: glocks-peer's storm runs from the start */
    console_race(vcpu);
    space_race(vcpu);
    wait_all(&finished, VCPUS);
    if (vcpu != 0)
        return 0;
    tidy_up();
    hvg_printf("\nglocks-race: %u checks, %u failed\n", checks, bad);
    if (bad)
        return 1;
    hvg_printf("glocks-race: all %u checks passed\n", checks);
    return 0;
}
