/* The fake page-table pool the page-table unit tests share: tables come
 * from fake physical pages reached through the direct-map offset. */
#pragma once

#include "hv/mm/pagetable.h"
#include "tests/unit/check.h"

#define PG 4096ULL
#define M2 (2ULL << 20)
#define G1 (1ULL << 30)
#define FAKE_BASE 0x40000000ULL /* fake physical address of the table pool */
#define POOL_PAGES 256

/* Tables come from a pool of fake physical pages, reached through the
 * direct map offset; `limit` makes allocation fail on demand. */
struct pool {
    unsigned char *mem;
    unsigned used, limit;
};

static struct pool pool;

static inline uint64_t pool_alloc(void *arg)
{
    struct pool *p = arg;
    if (p->used >= p->limit || p->used >= POOL_PAGES)
        return 0;
    memset(p->mem + p->used * PG, 0, PG);
    return FAKE_BASE + p->used++ * PG;
}

static inline void fresh(struct pt_space *s)
{
    pool.used = 0;
    pool.limit = POOL_PAGES;
    memset(pool.mem, 0xcc, POOL_PAGES * PG);
    uintptr_t offset = (uintptr_t)pool.mem - FAKE_BASE;
    if (pt_init(s, offset, pool_alloc, &pool) != PT_OK)
        abort();
}

static inline uint64_t *table(const struct pt_space *s, uint64_t phys)
{
    return (uint64_t *)(uintptr_t)(phys + s->direct_map_offset);
}

/* The raw entry at `level` on va's path (0 if the path ends earlier). */
static inline uint64_t raw_entry(const struct pt_space *s, uint64_t va, int level)
{
    uint64_t t = s->root_phys;
    for (int l = 4; l >= level; l--) {
        uint64_t e = table(s, t)[(va >> (12 + 9 * (l - 1))) & 511];
        if (l == level)
            return e;
        if (!(e & PTE_P) || (l < 4 && (e & PTE_PS)))
            return 0;
        t = e & PTE_ADDR_MASK;
    }
    return 0;
}

static inline uint64_t lookup_pa(const struct pt_space *s, uint64_t va)
{
    uint64_t pa = 0xdead;
    return pt_lookup(s, va, &pa, NULL) ? pa : UINT64_MAX;
}

static inline uint64_t lookup_flags(const struct pt_space *s, uint64_t va)
{
    uint64_t flags = 0;
    return pt_lookup(s, va, NULL, &flags) ? flags : UINT64_MAX;
}

/* For main(): the pool's memory. */
static inline bool pool_setup(void)
{
    pool.mem = aligned_alloc(PG, POOL_PAGES * PG);
    return pool.mem != NULL;
}
