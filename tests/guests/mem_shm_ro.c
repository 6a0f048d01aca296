/* Attack 2 of issue 10: a guest that hv.cfg maps a [shm] region read-only
 * tries every route to a writable mapping of it, and of its read-only
 * start-info page and its own code: a writable alias, HV_CALL_MEM_PROTECT,
 * a read-only alias raised afterwards, an alias of an alias, aliases into
 * a user space (raised there too), executable instead of writable. Every
 * route must be refused with -HV_EPERM (the mapping's maximum protections,
 * docs/abi.md). Where a route is wrongly allowed, it writes through it, so
 * tests/guests/mem_shm_owner.c sees its region changed. Exit 0 when every
 * check passed. */
#include "hvg.h"
#include "hvg_cpu.h"
#include "pv_common.h"

HV_GUEST_NOTE("mem-shm-ro", HVG_MIB(1), 1, HVG_KIB(64));

#define RW (HV_PROT_READ | HV_PROT_WRITE)
#define RX (HV_PROT_READ | HV_PROT_EXEC)
#define ALIAS 0x0000500000000000ull
#define ALIAS2 0x0000500000010000ull /* same 2 MiB block: one batch */

/* A route that must be refused; if hv maps it anyway, write through it. */
static void refused(const char *what, int64_t r, uint64_t space, uint64_t va)
{
    expect_eq(what, r, -HV_EPERM);
    if (r < 0)
        return;
    if (space == HV_SPACE_KERNEL)
        *(volatile uint64_t *)(uintptr_t)va = 0xbadbadbadbadull;
    hvg_mem_unmap(space, va, 1);
}

/* MEM_PROTECT of the target itself must be refused; if not, write to it. */
static void refused_in_place(const char *what, int64_t r, uint64_t va)
{
    expect_eq(what, r, -HV_EPERM);
    if (r >= 0)
        *(volatile uint64_t *)(uintptr_t)va = 0xbadbadbadbadull;
}

static void routes(const char *name, uint64_t target, bool protect_in_place)
{
    char what[96];
#define WHAT(s) (fmt_format(what, sizeof(what), "%s: %s", name, s), what)
    refused(WHAT("writable alias"), hvg_mem_map(0, ALIAS, 1, target, RW), 0, ALIAS);
    refused(WHAT("executable alias"), hvg_mem_map(0, ALIAS, 1, target, RX), 0, ALIAS);
    if (protect_in_place) {
        refused_in_place(WHAT("MEM_PROTECT read-write"), hvg_mem_protect(0, target, 1, RW),
                         target);
        refused_in_place(WHAT("MEM_PROTECT read-exec"), hvg_mem_protect(0, target, 1, RX),
                         target);
    }
    expect_eq(WHAT("read-only alias"), hvg_mem_map(0, ALIAS, 1, target, HV_PROT_READ), 0);
    refused_in_place(WHAT("read-only alias raised to read-write"),
                     hvg_mem_protect(0, ALIAS, 1, RW), ALIAS);
    refused(WHAT("writable alias of the read-only alias"),
            hvg_mem_map(0, ALIAS2, 1, ALIAS, RW), 0, ALIAS2);
    /* A batch whose second page is the target: all or nothing. */
    expect_eq(WHAT("a fresh page before the alias"), hvg_mem_map(0, ALIAS - PAGE, 1, 0, RW), 0);
    refused(WHAT("two-page writable alias ending in it"),
            hvg_mem_map(0, ALIAS2 - PAGE, 2, ALIAS - PAGE, RW), 0, ALIAS2);
    expect_true(WHAT("... mapped nothing"), hvg_mem_map(0, ALIAS2 - PAGE, 1, 0, RW) == 0 &&
                                                hvg_mem_unmap(0, ALIAS2 - PAGE, 1) == 0);
    expect_eq(WHAT("unmapping the aliases"),
              hvg_mem_unmap(0, ALIAS - PAGE, 2), 0);
    int64_t us = hvg_user_space_create();
    expect_true(WHAT("a user space"), us > 0);
    refused(WHAT("writable alias in a user space"),
            hvg_mem_map((uint64_t)us, ALIAS, 1, target, RW), (uint64_t)us, ALIAS);
    expect_eq(WHAT("read-only alias in a user space"),
              hvg_mem_map((uint64_t)us, ALIAS, 1, target, HV_PROT_READ), 0);
    expect_eq(WHAT("... raised to read-write there"),
              hvg_mem_protect((uint64_t)us, ALIAS, 1, RW), -HV_EPERM);
    expect_eq(WHAT("destroying the user space"), hvg_user_space_destroy((uint64_t)us), 0);
#undef WHAT
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    pv_name = "mem-shm-ro";
    expect_true("hv.cfg maps it a read-only region", si->shm[0].va != 0 && !si->shm[0].writable);
    if (si->shm[0].va)
        routes("the read-only shared region", si->shm[0].va, true);
    /* The start-info page lies above HV_GUEST_MAP_LIMIT: MEM_PROTECT cannot
     * reach it (-HV_EINVAL), aliases can. */
    uint64_t start_info = (uint64_t)(uintptr_t)si;
    routes("the start-info page", start_info, false);
    expect_eq("the start-info page: MEM_PROTECT", hvg_mem_protect(0, start_info, 1, RW),
              -HV_EINVAL);
    uint64_t text = (uint64_t)(uintptr_t)&main & ~(PAGE - 1);
    expect_eq("its own code: MEM_PROTECT read-write", hvg_mem_protect(0, text, 1, RW), -HV_EPERM);
    expect_eq("its own code: writable alias", hvg_mem_map(0, ALIAS, 1, text, RW), -HV_EPERM);
    return pv_finish();
}
