#include "tests/unit/pt_fixture.h"

static void test_init(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK_EQ_U64(s.root_phys, FAKE_BASE);
    CHECK_EQ_U64(pool.used, 1);
    pool.limit = pool.used;
    struct pt_space t;
    CHECK_EQ_U64(pt_init(&t, s.direct_map_offset, pool_alloc, &pool), PT_ENOMEM);
    CHECK_EQ_U64(pt_init(&t, 0, NULL, NULL), PT_EINVAL);
    CHECK_EQ_U64(pt_init(NULL, 0, pool_alloc, &pool), PT_EINVAL);
    CHECK(!pt_lookup(&s, 0, NULL, NULL));
}

static void test_map_4k(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK_EQ_U64(pt_map(&s, 0x400000, 0x1234000, 3 * PG, PTE_W, 0), PT_OK);
    CHECK_EQ_U64(pool.used, 4); /* root, PDPT, PD, PT */
    CHECK_EQ_U64(lookup_pa(&s, 0x400000), 0x1234000);
    CHECK_EQ_U64(lookup_pa(&s, 0x401abc), 0x1235abc);
    CHECK_EQ_U64(lookup_pa(&s, 0x402fff), 0x1236fff);
    CHECK(!pt_lookup(&s, 0x403000, NULL, NULL));
    CHECK(!pt_lookup(&s, 0x3ff000, NULL, NULL));
    CHECK_EQ_U64(lookup_flags(&s, 0x400000), PTE_P | PTE_W);
    CHECK_EQ_U64(raw_entry(&s, 0x400000, 1), 0x1234000 | PTE_P | PTE_W);
    /* without the large-page options, an aligned 2 MiB range is 512 leaves */
    CHECK_EQ_U64(pt_map(&s, 0x40000000, 0x80000000, M2, 0, 0), PT_OK);
    CHECK_EQ_U64(lookup_flags(&s, 0x40000000) & PTE_PS, 0);
}

static void test_map_2m_and_1g(void)
{
    struct pt_space s;
    fresh(&s);
    uint64_t va = 0x8000000000ULL; /* PML4 slot 1, 1 GiB aligned */
    uint64_t pa = 0x100000000ULL;
    CHECK_EQ_U64(pt_map(&s, va, pa, G1 + M2 + PG, PTE_W | PTE_G, PT_ALLOW_2M | PT_ALLOW_1G),
                 PT_OK);
    CHECK_EQ_U64(raw_entry(&s, va, 3), pa | PTE_P | PTE_W | PTE_G | PTE_PS);
    CHECK_EQ_U64(raw_entry(&s, va + G1, 2), (pa + G1) | PTE_P | PTE_W | PTE_G | PTE_PS);
    CHECK_EQ_U64(raw_entry(&s, va + G1 + M2, 1), (pa + G1 + M2) | PTE_P | PTE_W | PTE_G);
    CHECK_EQ_U64(pool.used, 4); /* root, PDPT, PD, PT */
    CHECK_EQ_U64(lookup_pa(&s, va + 0x12345678), pa + 0x12345678);
    CHECK_EQ_U64(lookup_pa(&s, va + G1 + 0x1fffff), pa + G1 + 0x1fffff);
    CHECK_EQ_U64(lookup_flags(&s, va + 5), PTE_P | PTE_W | PTE_G | PTE_PS);
    CHECK_EQ_U64(lookup_flags(&s, va + G1 + M2), PTE_P | PTE_W | PTE_G);
    CHECK(!pt_lookup(&s, va + G1 + M2 + PG, NULL, NULL));

    /* 2M allowed but 1G not: a 1 GiB range becomes 512 large leaves */
    CHECK_EQ_U64(pt_map(&s, 2 * va, pa, G1, 0, PT_ALLOW_2M), PT_OK);
    CHECK_EQ_U64(raw_entry(&s, 2 * va + G1 - M2, 2) & (PTE_PS | PTE_ADDR_MASK),
                 PTE_PS | (pa + G1 - M2));
}

static void test_large_pages_need_both_addresses_aligned(void)
{
    struct pt_space s;
    fresh(&s);
    /* va 2 MiB aligned, pa only 4 KiB: no large page possible */
    CHECK_EQ_U64(pt_map(&s, 0x200000, 0x1001000, M2, 0, PT_ALLOW_2M), PT_OK);
    CHECK_EQ_U64(lookup_flags(&s, 0x200000) & PTE_PS, 0);
    CHECK_EQ_U64(lookup_pa(&s, 0x3ff000), 0x1200000);
    /* starts unaligned: 4K pages up to the boundary, then 2M */
    CHECK_EQ_U64(pt_map(&s, 0x5ff000, 0x25ff000, PG + M2, 0, PT_ALLOW_2M), PT_OK);
    CHECK_EQ_U64(lookup_flags(&s, 0x5ff000) & PTE_PS, 0);
    CHECK_EQ_U64(lookup_flags(&s, 0x600000) & PTE_PS, PTE_PS);
    CHECK_EQ_U64(lookup_pa(&s, 0x7fffff), 0x27fffff);
}

static void test_1g_falls_back_where_a_table_exists(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK_EQ_U64(pt_map(&s, G1 + 0x5000, 0x5000, PG, 0, 0), PT_OK);
    CHECK_EQ_U64(pt_unmap(&s, G1 + 0x5000, PG), PT_OK);
    CHECK_EQ_U64(pt_map(&s, G1, 0, G1, PTE_W, PT_ALLOW_1G | PT_ALLOW_2M), PT_OK);
    /* the PD that was there stays in use, now holding 2 MiB leaves */
    CHECK_EQ_U64(raw_entry(&s, G1, 3) & PTE_PS, 0);
    CHECK_EQ_U64(raw_entry(&s, G1 + M2, 2) & PTE_PS, PTE_PS);
    /* the PT under the first 2 MiB is in the way of a 2M leaf there */
    CHECK_EQ_U64(raw_entry(&s, G1 + 0x5000, 1), 0x5000 | PTE_P | PTE_W);
    CHECK_EQ_U64(lookup_pa(&s, G1 + G1 - 1), G1 - 1);
}

static void test_flags_through_levels(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK_EQ_U64(pt_map(&s, 0x1000, 0x1000, PG, PTE_NX, 0), PT_OK);
    /* intermediates: P|W only, never NX, no U without a user leaf */
    for (int l = 4; l >= 2; l--)
        CHECK_EQ_U64(raw_entry(&s, 0x1000, l) & ~PTE_ADDR_MASK, PTE_P | PTE_W);
    CHECK_EQ_U64(lookup_flags(&s, 0x1000), PTE_P | PTE_NX);

    /* the walk's result: W and U only if every level has them, NX if any */
    CHECK_EQ_U64(pt_map(&s, 0x2000, 0x2000, PG, PTE_W | PTE_U, 0), PT_OK);
    CHECK_EQ_U64(lookup_flags(&s, 0x2000), PTE_P | PTE_W | PTE_U);
    uint64_t *pd_entry = table(&s, raw_entry(&s, 0, 3) & PTE_ADDR_MASK);
    *pd_entry &= ~PTE_W;
    CHECK_EQ_U64(lookup_flags(&s, 0x2000), PTE_P | PTE_U);
    *pd_entry |= PTE_W;
    *pd_entry &= ~PTE_U;
    CHECK_EQ_U64(lookup_flags(&s, 0x2000), PTE_P | PTE_W);
    *pd_entry |= PTE_U | PTE_NX;
    CHECK_EQ_U64(lookup_flags(&s, 0x2000), PTE_P | PTE_W | PTE_U | PTE_NX);
    *pd_entry &= ~PTE_NX;
    CHECK_EQ_U64(lookup_flags(&s, 0x2000), PTE_P | PTE_W | PTE_U);
}

static void test_user_bit_propagates(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK_EQ_U64(pt_map(&s, 0x10000, 0x10000, PG, PTE_W, 0), PT_OK);
    for (int l = 4; l >= 2; l--)
        CHECK_EQ_U64(raw_entry(&s, 0x10000, l) & PTE_U, 0);
    CHECK_EQ_U64(pt_map(&s, 0x11000, 0x11000, PG, PTE_W | PTE_U, 0), PT_OK);
    for (int l = 4; l >= 2; l--)
        CHECK_EQ_U64(raw_entry(&s, 0x11000, l) & PTE_U, PTE_U);
    /* the kernel page beside it stays kernel: its leaf decides */
    CHECK_EQ_U64(lookup_flags(&s, 0x10000) & PTE_U, 0);
    CHECK_EQ_U64(lookup_flags(&s, 0x11000) & PTE_U, PTE_U);
    /* a new user path gets U on freshly made tables too */
    CHECK_EQ_U64(pt_map(&s, 0x7f0000000000ULL, 0x20000, PG, PTE_U, 0), PT_OK);
    for (int l = 4; l >= 2; l--)
        CHECK_EQ_U64(raw_entry(&s, 0x7f0000000000ULL, l) & PTE_U, PTE_U);
    /* protect to user sets U on the path as well */
    CHECK_EQ_U64(pt_map(&s, 0x40000000, 0x30000, PG, 0, 0), PT_OK);
    CHECK_EQ_U64(pt_protect(&s, 0x40000000, PG, PTE_U), PT_OK);
    CHECK_EQ_U64(lookup_flags(&s, 0x40000000), PTE_P | PTE_U);
    CHECK_EQ_U64(raw_entry(&s, 0x40000000, 2) & PTE_U, PTE_U);
}

static void test_partial_unmap_splits_2m(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK_EQ_U64(pt_map(&s, M2, 0x40000000, M2, PTE_W | PTE_NX | PTE_G, PT_ALLOW_2M), PT_OK);
    unsigned before = pool.used;
    CHECK_EQ_U64(pt_unmap(&s, M2 + 0x10000, PG), PT_OK);
    CHECK_EQ_U64(pool.used, before + 1);
    CHECK(!pt_lookup(&s, M2 + 0x10000, NULL, NULL));
    CHECK_EQ_U64(lookup_pa(&s, M2 + 0xf000), 0x4000f000);
    CHECK_EQ_U64(lookup_pa(&s, M2 + 0x11000), 0x40011000);
    CHECK_EQ_U64(lookup_pa(&s, M2 + M2 - 1), 0x40000000 + M2 - 1);
    /* the split pages keep the flags, and are 4K leaves now */
    CHECK_EQ_U64(lookup_flags(&s, M2), PTE_P | PTE_W | PTE_NX | PTE_G);
    CHECK_EQ_U64(raw_entry(&s, M2, 2) & (PTE_PS | PTE_NX), 0);
}

static void test_partial_unmap_splits_1g_twice(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK_EQ_U64(pt_map(&s, G1, 0, G1, PTE_W | PTE_U, PT_ALLOW_1G), PT_OK);
    unsigned before = pool.used;
    /* both ends inside 2M pages, a whole 2M page between them */
    uint64_t lo = G1 + 0x301000, hi = G1 + 0x603000;
    CHECK_EQ_U64(pt_unmap(&s, lo, hi - lo), PT_OK);
    CHECK_EQ_U64(pool.used, before + 3); /* one PD, two PTs */
    CHECK_EQ_U64(lookup_pa(&s, lo - PG), 0x300000);
    CHECK(!pt_lookup(&s, lo, NULL, NULL));
    CHECK(!pt_lookup(&s, G1 + 0x400000, NULL, NULL)); /* a whole 2M in the middle */
    CHECK(!pt_lookup(&s, hi - PG, NULL, NULL));
    CHECK_EQ_U64(lookup_pa(&s, hi), 0x603000);
    CHECK_EQ_U64(lookup_flags(&s, hi), PTE_P | PTE_W | PTE_U);
    CHECK_EQ_U64(lookup_flags(&s, G1 + 0x800000), PTE_P | PTE_W | PTE_U | PTE_PS);
    CHECK_EQ_U64(lookup_pa(&s, G1 + G1 - 1), G1 - 1);
    /* the middle 2M leaf went away whole: its PD slot is empty */
    CHECK_EQ_U64(raw_entry(&s, G1 + 0x400000, 2), 0);
}

static void test_unmap_holes_and_whole_pages(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK_EQ_U64(pt_unmap(&s, 0x100000, 16 * PG), PT_OK); /* nothing there: fine */
    CHECK_EQ_U64(pt_map(&s, 0x100000, 0x100000, 2 * PG, 0, 0), PT_OK);
    CHECK_EQ_U64(pt_map(&s, 0x104000, 0x104000, PG, 0, 0), PT_OK);
    CHECK_EQ_U64(pt_unmap(&s, 0xff000, 8 * PG), PT_OK);
    CHECK(!pt_lookup(&s, 0x100000, NULL, NULL));
    CHECK(!pt_lookup(&s, 0x104000, NULL, NULL));
    /* unmapped space can be mapped again */
    CHECK_EQ_U64(pt_map(&s, 0x100000, 0x900000, 8 * PG, 0, 0), PT_OK);
    CHECK_EQ_U64(lookup_pa(&s, 0x107000), 0x907000);
}

static void test_protect(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK_EQ_U64(pt_map(&s, M2, 0x600000, 2 * M2, PTE_W, PT_ALLOW_2M), PT_OK);
    CHECK_EQ_U64(pt_protect(&s, M2 + 0x5000, 2 * PG, PTE_NX), PT_OK);
    CHECK_EQ_U64(lookup_flags(&s, M2 + 0x5000), PTE_P | PTE_NX);
    CHECK_EQ_U64(lookup_flags(&s, M2 + 0x6000), PTE_P | PTE_NX);
    CHECK_EQ_U64(lookup_flags(&s, M2 + 0x4000), PTE_P | PTE_W);
    CHECK_EQ_U64(lookup_flags(&s, M2 + 0x7000), PTE_P | PTE_W);
    CHECK_EQ_U64(lookup_pa(&s, M2 + 0x5123), 0x605123);
    /* a whole large page keeps its size */
    CHECK_EQ_U64(pt_protect(&s, 2 * M2, M2, PTE_G), PT_OK);
    CHECK_EQ_U64(lookup_flags(&s, 2 * M2 + 0x1000), PTE_P | PTE_G | PTE_PS);
    CHECK_EQ_U64(lookup_pa(&s, 3 * M2 - 1), 0x600000 + 2 * M2 - 1);
    /* flags the module owns or that are addresses are refused */
    CHECK_EQ_U64(pt_protect(&s, 2 * M2, M2, PTE_PS), PT_EINVAL);
    CHECK_EQ_U64(pt_protect(&s, 2 * M2, M2, 0x1000), PT_EINVAL);
}

static void test_protect_unmapped_is_enoent_and_changes_nothing(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK_EQ_U64(pt_map(&s, 0x10000, 0x10000, 4 * PG, PTE_W, 0), PT_OK);
    CHECK_EQ_U64(pt_map(&s, 0x15000, 0x15000, PG, PTE_W, 0), PT_OK); /* hole at 0x14000 */
    CHECK_EQ_U64(pt_protect(&s, 0x10000, 6 * PG, 0), PT_ENOENT);
    for (uint64_t va = 0x10000; va < 0x14000; va += PG)
        CHECK_EQ_U64(lookup_flags(&s, va), PTE_P | PTE_W);
    CHECK_EQ_U64(lookup_flags(&s, 0x15000), PTE_P | PTE_W);
    CHECK_EQ_U64(pt_protect(&s, 0x800000000ULL, PG, 0), PT_ENOENT);
}

static void test_eexist_leaves_nothing_behind(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK_EQ_U64(pt_map(&s, 0x10000, 0x10000, PG, PTE_W, 0), PT_OK);
    /* overlapping at its last page: nothing of the new range appears */
    CHECK_EQ_U64(pt_map(&s, 0x8000, 0x90000, 9 * PG, 0, 0), PT_EEXIST);
    for (uint64_t va = 0x8000; va < 0x10000; va += PG)
        CHECK(!pt_lookup(&s, va, NULL, NULL));
    CHECK_EQ_U64(lookup_pa(&s, 0x10000), 0x10000);
    CHECK_EQ_U64(lookup_flags(&s, 0x10000), PTE_P | PTE_W);
    /* against a large page, from inside it */
    CHECK_EQ_U64(pt_map(&s, 4 * M2, 0, M2, 0, PT_ALLOW_2M), PT_OK);
    CHECK_EQ_U64(pt_map(&s, 4 * M2 + 0x3000, 0x3000, PG, 0, 0), PT_EEXIST);
    CHECK_EQ_U64(pt_map(&s, 4 * M2 - PG, 0, 2 * PG, 0, 0), PT_EEXIST);
    CHECK(!pt_lookup(&s, 4 * M2 - PG, NULL, NULL));
    CHECK_EQ_U64(lookup_flags(&s, 4 * M2) & PTE_PS, PTE_PS);
    /* the clash is found before any table is made for the range's start */
    unsigned before = pool.used;
    CHECK_EQ_U64(pt_map(&s, 0x8000000000ULL - PG, 0, 2 * PG, 0, 0), PT_OK);
    CHECK_EQ_U64(pool.used, before + 5); /* PD+PT in slot 0, PDPT+PD+PT in slot 1 */
    before = pool.used;
    CHECK_EQ_U64(pt_map(&s, 0x10000000000ULL - PG, 0, PG, 0, 0), PT_OK);
    CHECK_EQ_U64(pool.used, before + 2);
    before = pool.used;
    CHECK_EQ_U64(pt_map(&s, 0x8000000000ULL - 2 * G1, 0, 2 * G1, 0, 0), PT_EEXIST);
    CHECK_EQ_U64(pool.used, before);
}

static void test_invalid_input_refused(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK_EQ_U64(pt_map(&s, 0x0000800000000000ULL, 0, PG, 0, 0), PT_EINVAL); /* non-canonical */
    CHECK_EQ_U64(pt_map(&s, 0xffff7ffffffff000ULL, 0, PG, 0, 0), PT_EINVAL);
    CHECK_EQ_U64(pt_map(&s, 0x00007ffffffff000ULL, 0, 2 * PG, 0, 0), PT_EINVAL); /* into hole */
    CHECK_EQ_U64(pt_map(&s, 0xfffffffffffff000ULL, 0, 2 * PG, 0, 0), PT_EINVAL); /* wraps */
    CHECK_EQ_U64(pt_map(&s, 0x1000, 0, 0, 0, 0), PT_EINVAL);
    CHECK_EQ_U64(pt_map(&s, 0x1800, 0, PG, 0, 0), PT_EINVAL);
    CHECK_EQ_U64(pt_map(&s, 0x1000, 0x800, PG, 0, 0), PT_EINVAL);
    CHECK_EQ_U64(pt_map(&s, 0x1000, 0, 0x800, 0, 0), PT_EINVAL);
    CHECK_EQ_U64(pt_map(&s, 0x1000, 1ULL << 52, PG, 0, 0), PT_EINVAL);
    CHECK_EQ_U64(pt_map(&s, 0x1000, (1ULL << 52) - PG, 2 * PG, 0, 0), PT_EINVAL);
    CHECK_EQ_U64(pt_map(&s, 0x1000, 0, PG, PTE_PS, 0), PT_EINVAL);
    CHECK_EQ_U64(pt_map(&s, 0x1000, 0, PG, 0x5000, 0), PT_EINVAL);
    CHECK_EQ_U64(pt_unmap(&s, 0x0000800000000000ULL, PG), PT_EINVAL);
    CHECK_EQ_U64(pt_unmap(&s, 0x1000, 0), PT_EINVAL);
    CHECK_EQ_U64(pt_protect(&s, 0x1234, PG, 0), PT_EINVAL);
    CHECK(!pt_lookup(&s, 0x0000800000000000ULL, NULL, NULL));
    CHECK_EQ_U64(pool.used, 1); /* nothing was built */
    /* both ends canonical, but the range spans the hole between the halves */
    CHECK_EQ_U64(pt_map(&s, 0x5000, 0x5000, PG, 0, 0), PT_OK);
    CHECK_EQ_U64(pt_unmap(&s, 0x1000, 0xfffffffffffff000ULL), PT_EINVAL);
    CHECK_EQ_U64(pt_protect(&s, 0x1000, 0xfffffffffffff000ULL, 0), PT_EINVAL);
    CHECK_EQ_U64(pt_unmap(&s, 0x5000, 0xffff800000000000ULL - 0x5000 + PG), PT_EINVAL);
    CHECK_EQ_U64(lookup_pa(&s, 0x5000), 0x5000);
    struct pt_space blank = {0};
    CHECK_EQ_U64(pt_map(&blank, 0, 0, PG, 0, 0), PT_EINVAL);
    CHECK_EQ_U64(pt_map(NULL, 0, 0, PG, 0, 0), PT_EINVAL);
}

static void test_edges_of_both_halves(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK_EQ_U64(pt_map(&s, 0x00007ffffffff000ULL, 0x1000, PG, 0, 0), PT_OK);
    CHECK_EQ_U64(pt_map(&s, 0xffff800000000000ULL, 0x2000, PG, PTE_W, 0), PT_OK);
    CHECK_EQ_U64(pt_map(&s, 0xfffffffffffff000ULL, 0x3000, PG, 0, 0), PT_OK); /* ends at 2^64 */
    CHECK_EQ_U64(lookup_pa(&s, 0x00007fffffffffffULL), 0x1fff);
    CHECK_EQ_U64(lookup_pa(&s, 0xffff800000000010ULL), 0x2010);
    CHECK_EQ_U64(lookup_pa(&s, UINT64_MAX), 0x3fff);
    CHECK_EQ_U64(pt_unmap(&s, 0xfffffffffffff000ULL, PG), PT_OK);
    CHECK(!pt_lookup(&s, UINT64_MAX, NULL, NULL));
    CHECK_EQ_U64(pt_unmap(&s, 0x00007ffffffff000ULL, PG), PT_OK);
    CHECK(!pt_lookup(&s, 0x00007ffffffff000ULL, NULL, NULL));
}

static void test_enomem_midway_maps_nothing(void)
{
    struct pt_space s;
    fresh(&s);
    /* 4 MiB of 4K pages across two page tables: needs PDPT, PD, 2 PTs */
    pool.limit = pool.used + 3;
    CHECK_EQ_U64(pt_map(&s, 0x200000, 0x200000, 2 * M2, PTE_W | PTE_U, 0), PT_ENOMEM);
    for (uint64_t va = 0x200000; va < 0x600000; va += PG)
        CHECK(!pt_lookup(&s, va, NULL, NULL));
    CHECK_EQ_U64(pool.used, 4); /* it got as far as the first PT */
    /* given memory, the same call succeeds, reusing the tables made */
    pool.limit = POOL_PAGES;
    CHECK_EQ_U64(pt_map(&s, 0x200000, 0x200000, 2 * M2, PTE_W | PTE_U, 0), PT_OK);
    CHECK_EQ_U64(pool.used, 5);
    CHECK_EQ_U64(lookup_pa(&s, 0x5ff000), 0x5ff000);
}

static void test_enomem_on_split_changes_nothing(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK_EQ_U64(pt_map(&s, G1, 0, G1, PTE_W, PT_ALLOW_1G), PT_OK);
    pool.limit = pool.used; /* no table for the split */
    CHECK_EQ_U64(pt_unmap(&s, G1 + PG, PG), PT_ENOMEM);
    CHECK_EQ_U64(pt_protect(&s, G1 + PG, PG, 0), PT_ENOMEM);
    CHECK_EQ_U64(lookup_pa(&s, G1 + PG), PG);
    CHECK_EQ_U64(lookup_flags(&s, G1 + PG), PTE_P | PTE_W | PTE_PS);
    /* one table: the 1G page becomes 2M pages, the 2M split still fails */
    pool.limit = pool.used + 1;
    CHECK_EQ_U64(pt_unmap(&s, G1 + PG, PG), PT_ENOMEM);
    CHECK_EQ_U64(lookup_pa(&s, G1 + PG), PG);
    CHECK_EQ_U64(lookup_pa(&s, G1 + G1 - PG), G1 - PG);
    CHECK_EQ_U64(lookup_flags(&s, G1 + PG), PTE_P | PTE_W | PTE_PS);
    pool.limit = POOL_PAGES;
    CHECK_EQ_U64(pt_unmap(&s, G1 + PG, PG), PT_OK);
    CHECK(!pt_lookup(&s, G1 + PG, NULL, NULL));
    CHECK_EQ_U64(lookup_pa(&s, G1), 0);
}

struct visit_log {
    uint64_t phys[64];
    int level[64];
    unsigned count;
};

static void record(void *arg, uint64_t table_phys, int level)
{
    struct visit_log *log = arg;
    if (log->count < 64) {
        log->phys[log->count] = table_phys;
        log->level[log->count] = level;
    }
    log->count++;
}

static int visit_index(const struct visit_log *log, uint64_t phys)
{
    for (unsigned i = 0; i < log->count && i < 64; i++)
        if (log->phys[i] == phys)
            return (int)i;
    return -1;
}

static void test_for_each_table(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK_EQ_U64(pt_map(&s, 0x1000, 0x1000, PG, 0, 0), PT_OK);
    CHECK_EQ_U64(pt_map(&s, 0x40000000, 0, M2, 0, PT_ALLOW_2M), PT_OK);
    CHECK_EQ_U64(pt_map(&s, 0xffff800000000000ULL, 0, PG, 0, 0), PT_OK);
    unsigned tables = pool.used; /* root + low PDPT, PD, PT, PD + high PDPT, PD, PT = 8 */
    CHECK_EQ_U64(tables, 8);

    struct visit_log all = {0};
    pt_for_each_table(&s, 0, UINT64_MAX, record, &all);
    CHECK_EQ_U64(all.count, tables);
    CHECK_EQ_U64(all.phys[all.count - 1], s.root_phys);
    CHECK_EQ_U64(all.level[all.count - 1], 4);
    /* every table the walk of a mapping passes is visited before its parent */
    uint64_t vas[3] = {0x1000, 0x40000000, 0xffff800000000000ULL};
    for (int v = 0; v < 3; v++) {
        int prev = -1;
        for (int l = 1; l <= 4; l++) {
            uint64_t phys = l == 4 ? s.root_phys : raw_entry(&s, vas[v], l + 1) & PTE_ADDR_MASK;
            if (l == 1 && v == 1)
                continue; /* 2M leaf: no PT */
            int idx = visit_index(&all, phys);
            CHECK(idx > prev);
            if (idx < 0)
                return;
            CHECK_EQ_U64(all.level[idx], l);
            prev = idx;
        }
    }

    /* only the upper half: its PDPT, PD, PT, then the root */
    struct visit_log upper = {0};
    pt_for_each_table(&s, 0xffff800000000000ULL, UINT64_MAX, record, &upper);
    CHECK_EQ_U64(upper.count, 4);
    /* a range meeting only the 2M mapping's PD */
    struct visit_log mid = {0};
    pt_for_each_table(&s, 0x40000000, 0x40000fff, record, &mid);
    CHECK_EQ_U64(mid.count, 3); /* low PDPT, second PD, root */
    CHECK_EQ_U64(mid.level[0], 2);
    pt_for_each_table(&s, 0, UINT64_MAX, NULL, NULL); /* no visitor: nothing happens */
}

int main(void)
{
    check_suite = "pagetable";
    if (!pool_setup())
        return 1;
    RUN_TEST(test_init);
    RUN_TEST(test_map_4k);
    RUN_TEST(test_map_2m_and_1g);
    RUN_TEST(test_large_pages_need_both_addresses_aligned);
    RUN_TEST(test_1g_falls_back_where_a_table_exists);
    RUN_TEST(test_flags_through_levels);
    RUN_TEST(test_user_bit_propagates);
    RUN_TEST(test_partial_unmap_splits_2m);
    RUN_TEST(test_partial_unmap_splits_1g_twice);
    RUN_TEST(test_unmap_holes_and_whole_pages);
    RUN_TEST(test_protect);
    RUN_TEST(test_protect_unmapped_is_enoent_and_changes_nothing);
    RUN_TEST(test_eexist_leaves_nothing_behind);
    RUN_TEST(test_invalid_input_refused);
    RUN_TEST(test_edges_of_both_halves);
    RUN_TEST(test_enomem_midway_maps_nothing);
    RUN_TEST(test_enomem_on_split_changes_nothing);
    RUN_TEST(test_for_each_table);
    free(pool.mem);
    return check_finish();
}
