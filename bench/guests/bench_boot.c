/* bench-boot: the guest of the boot figures (docs/benchmarks.md). It reads
 * the TSC as the first statement of main, yields at once so that the next
 * guest gets its first instructions in as early as possible, and only then
 * prints the reading and exits.
 *
 * boot_first_guest: bench/run.py boots it alone (as boot-00); the figure is
 * its reading minus efi_main's (hv logs that one).
 * boot_32_guests: bench/run.py puts it on the ESP 32 times (boot-00 ..
 * boot-31), which hv starts in name order; the figure is the latest reading
 * minus efi_main's. */
#include "hvg.h"

/* Small on purpose: 32 of them must load fast and fit anywhere. The name
 * stays empty so each copy is named after its file. */
HV_GUEST_NOTE("", HVG_KIB(256), 1, HVG_KIB(16));

int main(const struct hv_start_info *si, unsigned vcpu)
{
    uint64_t first_tsc = hvg_rdtsc();

    (void)vcpu;
    hvg_yield();
    hvg_printf("bench: name=boot_guest guest=%s tsc=%llu\n", si->name,
               (unsigned long long)first_tsc);
    return 0;
}
