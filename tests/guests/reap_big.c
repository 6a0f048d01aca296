/* reap-big: a guest with a big allowance, mapped, that ends at once, so hv
 * has 64 MiB of mappings (and their page tables) to give back while another
 * guest runs. Half of what its image leaves of the allowance is its heap,
 * mapped and zeroed at load (docs/abi.md, "memory_bytes"): with 136 MiB
 * that is more than REAP_PAGES pages. It writes one word into each heap
 * page (every frame is really there) and exits 0, printing
 *
 *     reap-big: N heap pages mapped
 *
 * or exits 1 if the heap is smaller than REAP_PAGES. The system test
 * (tests/system/irqoff_cases.py) boots it beside the companion and judges
 * how hv reaps it: in bounded steps, while the companion keeps running. */
#include "hvg.h"

#define REAP_PAGES 16384ull /* 64 MiB */

HV_GUEST_NOTE("reap-big", HVG_MIB(136), 1, 0);

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    uint64_t pages = si->heap_bytes / 4096;
    if (!si->heap_start || pages < REAP_PAGES) {
        hvg_printf("reap-big: a heap of %llu pages, %llu wanted\n", (unsigned long long)pages,
                   REAP_PAGES);
        return 1;
    }
    for (uint64_t i = 0; i < pages; i++)
        *(volatile uint64_t *)(si->heap_start + i * 4096) = i;
    hvg_printf("reap-big: %llu heap pages mapped\n", (unsigned long long)pages);
    return 0;
}
