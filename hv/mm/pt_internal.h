/* What hv/mm/pagetable.c and hv/mm/pt_bounded.c share: the page-table
 * layout's helpers (inline: the walks of the uaccess and page-walk paths
 * use them in their loops) and the two operations both files' entry
 * points end with. Private to hv/mm. */
#pragma once

#include "hv/mm/pagetable.h"

#define ENTRIES 512
#define PAGE_SIZE_4K 4096ULL
#define PHYS_LIMIT (1ULL << 52)
#define INTERMEDIATE (PTE_P | PTE_W)
/* Leaf bits a caller may choose: everything but PS and the address. */
#define LEAF_FLAGS_ALLOWED                                                                    \
    (PTE_P | PTE_W | PTE_U | PTE_PWT | PTE_PCD | PTE_A | PTE_D | PTE_G | (7ULL << 9) |        \
     (0x7ffULL << 52) | PTE_NX)

static inline uint64_t level_span(int level)
{
    return 1ULL << (12 + 9 * (level - 1));
}

static inline unsigned level_index(uint64_t va, int level)
{
    return (unsigned)(va >> (12 + 9 * (level - 1))) & (ENTRIES - 1);
}

static inline bool is_leaf(uint64_t entry, int level)
{
    return level == 1 || ((level == 2 || level == 3) && (entry & PTE_PS));
}

static inline uint64_t *table_at(const struct pt_space *s, uint64_t phys)
{
    return (uint64_t *)(uintptr_t)(phys + s->direct_map_offset);
}

static inline bool is_canonical(uint64_t va)
{
    uint64_t top = va >> 47;
    return top == 0 || top == 0x1ffff;
}


/* PT_OK for a non-empty, page-aligned, canonical range within one half
 * of a space that has a root; else PT_EINVAL (pagetable.c: out of line, as
 * it was when static, for hv.efi's size). */
int pt_check_range(const struct pt_space *s, uint64_t va, uint64_t size);
/* Copies the root entries covering [va, va + size) of the lower half into
 * the isolated root, if any (pagetable.c). */
void pt_mirror_lower_half(const struct pt_space *s, uint64_t va, uint64_t size);
/* Splits the large leaves the range's two ends fall inside (pagetable.c). */
int pt_split_range_ends(struct pt_space *s, uint64_t va, uint64_t size);
