/* What the memory-map normalizer tests share (tests/unit/test_memmap*.c,
 * one binary each): a range constructor, the structural guarantees every
 * result must have, and a page's kind in a map. Each test file includes it
 * once. */
#pragma once

#include "hv/mm/memmap.h"

#include "tests/unit/check.h"

/* Not every test file uses every helper. */
#define FIXTURE static __attribute__((unused))

#define PG 4096ULL
#define TOP_PAGE_BASE (0ULL - PG)

FIXTURE struct mem_range R(uint64_t base, uint64_t size, uint32_t kind)
{
    struct mem_range e = {base, size, kind};
    return e;
}

/* Structural guarantees every result must have. */
FIXTURE void check_shape(const struct mem_range *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        CHECK(r[i].size != 0);
        CHECK((r[i].base & (PG - 1)) == 0);
        CHECK((r[i].size & (PG - 1)) == 0);
        CHECK(r[i].size <= TOP_PAGE_BASE - r[i].base); /* no overflow, top page never used */
        CHECK(r[i].kind >= MEM_USABLE && r[i].kind <= MEM_UNUSABLE);
        if (i > 0) {
            uint64_t prev_end = r[i - 1].base + r[i - 1].size;
            CHECK(prev_end <= r[i].base);
            CHECK(!(prev_end == r[i].base && r[i - 1].kind == r[i].kind));
        }
    }
}

FIXTURE uint32_t kind_of_page(const struct mem_range *r, size_t n, uint64_t page)
{
    for (size_t i = 0; i < n; i++)
        if (page * PG >= r[i].base && page * PG - r[i].base < r[i].size)
            return r[i].kind;
    return 0;
}
