/* Attack 4 of issue 10: many aliases of one frame, to wrap the per-frame
 * W^X counters (they were 8 bits: 300 writable aliases ended with an
 * executable one). Now:
 *
 *   - 300 writable aliases, then an executable alias or MEM_PROTECT to
 *     read-exec of any of them: -HV_EPERM;
 *   - writable aliases in batches of 16 (one frame 16 times per call) until
 *     the counter's limit: -HV_ENOMEM at no more than HV_FRAME_MAX_MAPPINGS
 *     writable mappings, and still no executable one;
 *   - the other way round: 300 executable aliases, then no writable one.
 *
 * Exit 0 when every check passed. */
#include "hvg.h"
#include "hvg_cpu.h"
#include "pv_common.h"

HV_GUEST_NOTE("mem-wx-alias", HVG_MIB(4), 1, HVG_KIB(64));

#define RW (HV_PROT_READ | HV_PROT_WRITE)
#define RX (HV_PROT_READ | HV_PROT_EXEC)
#define FRAME 0x0000100000000000ull
#define ALIASES 0x0000200000000000ull
#define EXEC_ALIAS 0x0000300000000000ull
#define ROUTE 300
#define BATCH 16

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    (void)si;
    pv_name = "mem-wx-alias";
    expect_eq("one fresh page", hvg_mem_map(0, FRAME, 1, 0, RW), 0);
    *(volatile uint64_t *)(uintptr_t)FRAME = 0xc3; /* ret */

    bool all = true;
    for (uint64_t i = 0; i < ROUTE; i++)
        all &= hvg_mem_map(0, ALIASES + i * PAGE, 1, FRAME, RW) == 0;
    expect_true("300 writable aliases of it", all);
    expect_eq("... then an executable alias", hvg_mem_map(0, EXEC_ALIAS, 1, FRAME, RX), -HV_EPERM);
    expect_eq("... then read-exec by MEM_PROTECT", hvg_mem_protect(0, ALIASES, 1, RX), -HV_EPERM);
    expect_eq("... after dropping one writable alias",
              hvg_mem_unmap(0, ALIASES, 1) | hvg_mem_map(0, EXEC_ALIAS, 1, FRAME, RX), -HV_EPERM);
    *(volatile uint64_t *)(uintptr_t)(ALIASES + 5 * PAGE) = 0x1234;
    expect_eq("the aliases are one frame",
              (int64_t)*(volatile uint64_t *)(uintptr_t)(ALIASES + 200 * PAGE), 0x1234);

    /* BATCH aliases side by side, then that range aliased again and again:
     * each call maps the one frame BATCH times. */
    expect_eq("unmapping the 300", hvg_mem_unmap(0, ALIASES, ROUTE), 0);
    all = true;
    for (uint64_t i = 0; i < BATCH; i++)
        all &= hvg_mem_map(0, ALIASES + i * PAGE, 1, FRAME, RW) == 0;
    expect_true("16 aliases side by side", all);
    uint64_t writable = 1 + BATCH, calls = 0;
    int64_t r;
    for (;;) {
        r = hvg_mem_map(0, ALIASES + writable * PAGE, BATCH, ALIASES, RW);
        if (r != 0)
            break;
        writable += BATCH;
        calls++;
    }
    hvg_printf("mem-wx-alias: %llu writable mappings of one frame, then %lld\n",
               (unsigned long long)writable, (long long)r);
    expect_eq("writable aliases until the counter's limit", r, -HV_ENOMEM);
    expect_true("... which is HV_FRAME_MAX_MAPPINGS",
                writable <= HV_FRAME_MAX_MAPPINGS && writable > HV_FRAME_MAX_MAPPINGS - BATCH);
    expect_eq("... and still no executable alias", hvg_mem_map(0, EXEC_ALIAS, 1, FRAME, RX),
              -HV_EPERM);
    /* The refused call may have mapped part of its BATCH first (hv's own
     * batch is smaller, docs/abi.md: steps done before an error stay). */
    expect_eq("unmapping them all", hvg_mem_unmap(0, ALIASES, writable + BATCH), 0);

    *(volatile uint64_t *)(uintptr_t)FRAME = 0xc3; /* ret, again */
    expect_eq("the frame read-only", hvg_mem_protect(0, FRAME, 1, HV_PROT_READ), 0);
    all = true;
    for (uint64_t i = 0; i < ROUTE; i++)
        all &= hvg_mem_map(0, EXEC_ALIAS + i * PAGE, 1, FRAME, RX) == 0;
    expect_true("300 executable aliases of it", all);
    expect_eq("... it runs", ((int64_t(*)(void))(uintptr_t)(EXEC_ALIAS + 7 * PAGE))() * 0, 0);
    expect_eq("... then a writable alias", hvg_mem_map(0, ALIASES, 1, FRAME, RW), -HV_EPERM);
    expect_eq("... then the frame read-write", hvg_mem_protect(0, FRAME, 1, RW), -HV_EPERM);
    expect_eq("unmapping them", hvg_mem_unmap(0, EXEC_ALIAS, ROUTE), 0);
    expect_eq("then the frame may be read-write again", hvg_mem_protect(0, FRAME, 1, RW), 0);
    return pv_finish();
}
