/* boot-tsc: reads the TSC as the first statement of main and prints it, for
 * tests/system/boot_cases.py (hv's part of a boot, measured under -icount
 * the way bench-boot measures boot_first_guest). Exits 0. */
#include "hvg.h"

HV_GUEST_NOTE("", HVG_KIB(256), 1, HVG_KIB(16));

int main(const struct hv_start_info *si, unsigned vcpu)
{
    uint64_t first_tsc = hvg_rdtsc();

    (void)si;
    (void)vcpu;
    hvg_printf("boot-tsc: first tsc=%llu\n", (unsigned long long)first_tsc);
    return 0;
}
