/* Attack 8 of issue 10: an image whose note claims another guest's name.
 * Booted under a file name that sorts before the real guest's, beside that
 * guest and a [shm] region hv.cfg grants the real guest writable, it used
 * to become that guest (and the real one was renamed "-2"). Now its name is
 * its file name, so it must find no shared region in its start info, and
 * be unknown to the event channels under the stolen name: it reports what
 * it got and exits 0 only if that is nothing.
 *
 *     impostor: name NAME, shared regions: none
 *     impostor: all N checks passed */
#include "hvg.h"
#include "hvg_event.h"

/* The name of the guest it pretends to be (the system test boots the
 * companion beside it). */
HV_GUEST_NOTE("companion", HVG_MIB(1), 1, 0);

static unsigned checks, failures;

static void check(bool ok, const char *what)
{
    checks++;
    if (!ok) {
        failures++;
        hvg_printf("impostor: FAILED: %s\n", what);
    }
}

static bool same(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    unsigned regions = 0;
    for (unsigned i = 0; i < HV_MAX_SHM; i++) {
        if (si->shm[i].name[0] == '\0')
            continue;
        regions++;
        hvg_printf("impostor: got shared region %s at 0x%llx (%s)\n", si->shm[i].name,
                   (unsigned long long)si->shm[i].va, si->shm[i].writable ? "rw" : "ro");
        if (si->shm[i].writable)   /* what the attack was after: show it worked */
            *(volatile uint64_t *)si->shm[i].va = 0x696d706f73746f72ull;
    }
    hvg_printf("impostor: name %s, shared regions: %s\n", si->name, regions ? "SOME" : "none");
    check(regions == 0, "a shared region granted to another name was mapped");
    check(!same(si->name, "companion"), "the image got the name its note asked for");

    struct hv_guest_info gi;
    check(hvg_guest_info(&gi) == 0 && same(gi.name, si->name),
          "HV_CALL_GUEST_INFO disagrees with the start info");

    /* Under its real name the companion is a different guest: a port the
     * impostor sets aside for it names the companion as the remote. */
    int64_t port = hvg_hypercall1(HV_CALL_EVTCHN_ALLOC_UNBOUND, (uint64_t)"companion");
    check(port >= 0, "no port could be set aside for the companion");
    if (port >= 0) {
        struct hv_evtchn_status st;
        check(hvg_hypercall2(HV_CALL_EVTCHN_STATUS, (uint64_t)port, (uint64_t)&st) == 0 &&
                  st.state == HV_EVTCHN_UNBOUND && same(st.remote_name, "companion"),
              "the unbound port does not name the companion as its remote");
        hvg_hypercall1(HV_CALL_EVTCHN_CLOSE, (uint64_t)port);
    }
    if (failures) {
        hvg_printf("impostor: %u of %u checks failed\n", failures, checks);
        return 1;
    }
    hvg_printf("impostor: all %u checks passed\n", checks);
    return 0;
}
