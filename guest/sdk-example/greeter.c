/* A guest in a project of its own, built against the installed SDK with the
 * three-line Makefile beside it (docs/writing-guests.md, "A guest in its own
 * folder"). It greets, says what hv gave it, sleeps on its timer and shows
 * the time it took, then exits 0. */
#include "hvg.h"
#include "hvg_event.h"
#include "lib/string.h"

HV_GUEST_NOTE("greeter", HVG_MIB(1), 1, 0);

int main(const struct hv_start_info *si, unsigned vcpu)
{
    struct hv_guest_info info;
    char name[sizeof(si->name)];

    if (hvg_guest_info(&info) < 0)
        return 1;
    memcpy(name, si->name, sizeof(name));
    name[sizeof(name) - 1] = '\0';
    hvg_printf("%s: built out of tree against the hv SDK (ABI %u), %llu KiB of memory\n",
               name, (unsigned)si->abi_version, (unsigned long long)(info.memory_bytes >> 10));

    if (hvg_events_init(vcpu) < 0)
        return 2;
    uint64_t t0 = hvg_now();
    if (hvg_sleep_until(vcpu, t0 + HVG_MS(5)) < 0)
        return 3;
    uint64_t slept = hvg_now() - t0;
    if (slept < HVG_MS(5))
        return 4;
    hvg_printf("%s: slept %llu ms on the timer, goodbye\n", name,
               (unsigned long long)(slept / HVG_MS(1)));
    return 0;
}
