/* Attack 3 of issue 10: a guest spends its memory allowance every way it
 * can and checks, through HV_CALL_GUEST_INFO's memory_used_bytes (data
 * pages and page tables charged), that hv keeps it within the allowance
 * and gives everything back:
 *
 *   - fresh pages one at a time, each 1 GiB apart (two new page tables
 *     each), until -HV_ENOMEM: the charge never passes memory_bytes, and at
 *     the refusal less than one step's worth is left (the whole allowance
 *     was there for it: it is a reservation);
 *   - unmapping them all gives back every page and every emptied table;
 *   - USER_SPACE_CREATE / map / DESTROY 300 times, and map / unmap of one
 *     far page 300 times: the charge comes back to where it was each time
 *     (page tables are uncharged when freed).
 *
 * Booted twice (or more) beside each other, each copy must reach its full
 * allowance: a neighbour cannot eat into it. Exit 0 when every check
 * passed. */
#include "hvg.h"
#include "hvg_cpu.h"
#include "pv_common.h"

HV_GUEST_NOTE("mem-allowance", HVG_MIB(96), 1, HVG_KIB(64));

#define RW (HV_PROT_READ | HV_PROT_WRITE)
#define SPREAD_BASE 0x0000100000000000ull
#define SPREAD_STEP (1ull << 30)
#define FAR 0x0000600000000000ull
#define LOOPS 300

static uint64_t used(void)
{
    struct hv_guest_info info;
    return hvg_guest_info(&info) == 0 ? info.memory_used_bytes : UINT64_MAX;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    pv_name = si->name;
    uint64_t allowance = si->memory_bytes, start = used();
    hvg_printf("%s: %llu KiB allowance, %llu KiB charged at start\n", si->name,
               (unsigned long long)(allowance >> 10), (unsigned long long)(start >> 10));
    expect_true("the load's charge is within the allowance", start <= allowance);

    uint64_t pages = 0, most = 0;
    int64_t r;
    for (;;) {
        uint64_t va = SPREAD_BASE + pages * SPREAD_STEP;
        r = hvg_mem_map(0, va, 1, 0, RW);
        if (r != 0)
            break;
        *(volatile uint64_t *)(uintptr_t)va = pages; /* real memory */
        pages++;
        uint64_t u = used();
        most = u > most ? u : most;
    }
    uint64_t at_refusal = used();
    hvg_printf("%s: %llu spread pages, then %lld; %llu KiB charged of %llu\n",
               si->name, (unsigned long long)pages, (long long)r, (unsigned long long)(at_refusal >> 10),
               (unsigned long long)(allowance >> 10));
    expect_eq("fresh pages until the allowance refuses", r, -HV_ENOMEM);
    expect_true("the charge never passed the allowance", most <= allowance);
    /* One step needs a page and at most three tables. */
    expect_true("the whole allowance was there to use", allowance - at_refusal < 4 * PAGE);
    bool intact = true;
    for (uint64_t i = 0; i < pages; i++)
        intact &= *(volatile uint64_t *)(uintptr_t)(SPREAD_BASE + i * SPREAD_STEP) == i;
    expect_true("every page kept what was written to it", intact);
    expect_eq("unmapping them all", hvg_mem_unmap(0, SPREAD_BASE, pages * (SPREAD_STEP / PAGE)), 0);
    expect_eq("every page and table came back", (int64_t)used(), (int64_t)start);

    bool back = true;
    for (int i = 0; i < LOOPS; i++) {
        int64_t s = hvg_user_space_create();
        back &= s > 0 && hvg_mem_map((uint64_t)s, FAR, 1, 0, RW) == 0 &&
                hvg_user_space_destroy((uint64_t)s) == 0 && used() == start;
    }
    expect_true("user spaces made and destroyed: nothing stays charged", back);
    back = true;
    for (int i = 0; i < LOOPS; i++)
        back &= hvg_mem_map(0, FAR + (uint64_t)i * SPREAD_STEP, 1, 0, RW) == 0 &&
                hvg_mem_unmap(0, FAR + (uint64_t)i * SPREAD_STEP, 1) == 0 && used() == start;
    expect_true("far pages mapped and unmapped: nothing stays charged", back);
    return pv_finish();
}
