/* hv/guest/uaccess.c uaccess_translate (the page-walk route for spaces that
 * are not loaded): its own page walk must answer what pt_lookup says (mapped,
 * user, writable for a write, the same frame and offset), for 4 KiB and
 * large leaves, supervisor and read-only pages and holes. */
#include "hv/guest/uaccess.h"
#include "hv/mm/mm.h"
#include "include/hv/abi.h"
#include "tests/unit/pt_fixture.h"

/* The direct accesses (hv/guest/uaccess_copy.S) are not linked here. */
int uaccess_copy(void *dst, const void *src, size_t n);
int uaccess_copy(void *dst, const void *src, size_t n)
{
    (void)dst, (void)src, (void)n;
    abort();
}
int uaccess_probe_write(uint64_t va);
int uaccess_probe_write(uint64_t va)
{
    (void)va;
    abort();
}

/* What the walk must give, from pt_lookup: the leaf's address in hv's direct
 * map (the tables themselves are read through the pool's offset), or NULL. */
static uint8_t *reference(const struct pt_space *s, uint64_t va, bool write)
{
    uint64_t pa, flags;
    if (!pt_lookup(s, va & ~(PG - 1), &pa, &flags) || !(flags & PTE_U) ||
        (write && !(flags & PTE_W)))
        return NULL;
    return (uint8_t *)phys_to_virt(pa) + (va & (PG - 1)); /* never dereferenced here */
}

static bool readable(const struct pt_space *s, uint64_t va)
{
    uint8_t *p = uaccess_translate(s, va, false);
    CHECK(p == reference(s, va, false));
    return p != NULL;
}

static bool writable(const struct pt_space *s, uint64_t va)
{
    uint8_t *p = uaccess_translate(s, va, true);
    CHECK(p == reference(s, va, true));
    return p != NULL;
}

#define CODE 0x400000ULL
#define DATA 0x600000ULL
#define KERNEL_ONLY 0x800000ULL
#define LARGE 0x40000000ULL

static void map_cases(struct pt_space *s)
{
    CHECK(pt_map(s, CODE, 0x100000, 2 * PG, PTE_U, 0) == PT_OK);
    CHECK(pt_map(s, DATA, 0x200000, PG, PTE_U | PTE_W | PTE_NX, 0) == PT_OK);
    CHECK(pt_map(s, KERNEL_ONLY, 0x300000, PG, 0, 0) == PT_OK);
    CHECK(pt_map(s, LARGE, 0x400000, M2, PTE_U, PT_ALLOW_2M) == PT_OK);
    CHECK(pt_map(s, LARGE + M2, 0x600000, M2, PTE_U | PTE_NX, PT_ALLOW_2M) == PT_OK);
}

static void each_case_as_the_mmu_says(void)
{
    struct pt_space s;
    fresh(&s);
    map_cases(&s);
    CHECK(readable(&s, CODE));
    CHECK(!writable(&s, CODE));                   /* read-only */
    CHECK(readable(&s, CODE + PG + 123));
    CHECK(!readable(&s, CODE + 2 * PG));          /* a hole in a table that exists */
    CHECK(readable(&s, DATA) && writable(&s, DATA + PG - 1));
    CHECK(!readable(&s, KERNEL_ONLY));            /* not user */
    CHECK(readable(&s, LARGE + 0x12345));         /* a 2 MiB leaf */
    CHECK(!writable(&s, LARGE + 0x12345));
    CHECK(readable(&s, LARGE + M2 + 8) && !writable(&s, LARGE + M2 + M2 - 1)); /* NX, read-only */
    CHECK(!readable(&s, 0));
    CHECK(!readable(&s, 0x7fffffffffffULL));
}

static void agrees_with_pt_lookup_everywhere_near_the_mappings(void)
{
    struct pt_space s;
    fresh(&s);
    map_cases(&s);
    static const uint64_t bases[] = {CODE, DATA, KERNEL_ONLY, LARGE, LARGE + M2, 0};
    unsigned disagreements = 0;
    for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
        for (int64_t off = -3 * (int64_t)PG; off < 3 * (int64_t)M2; off += 509) {
            uint64_t va = bases[b] + (uint64_t)off;
            if (uaccess_translate(&s, va, false) != reference(&s, va, false) ||
                uaccess_translate(&s, va, true) != reference(&s, va, true))
                disagreements++;
        }
    CHECK_EQ_U64(disagreements, 0);
}

int main(void)
{
    check_suite = "uaccess_walk";
    pool.mem = aligned_alloc(PG, POOL_PAGES * PG);
    RUN_TEST(each_case_as_the_mmu_says);
    RUN_TEST(agrees_with_pt_lookup_everywhere_near_the_mappings);
    free(pool.mem);
    return check_finish();
}
