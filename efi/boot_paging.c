/* The boot page tables the stub switches to before jumping into the core:
 *   - the identity map of physical memory the firmware set up, kept so the
 *     jump itself, and later ResetSystem, run where they are;
 *   - the direct map of the same memory at HV_DIRECT_MAP_BASE;
 *   - the core at HV_CORE_BASE.
 * They are short-lived: the core builds its final, W^X tables at once and
 * keeps these only for calling the firmware at power-off. */
#include "efi/memmap_convert.h"
#include "efi/stub.h"
#include "hv/mm/pagetable.h"

#define MIB2 (2ULL << 20)

bool stub_reserve_page_pool(struct page_pool *pool, UINTN pages)
{
    void *base = stub_alloc_pages_from(pages, pages * EFI_PAGE_SIZE);
    if (!base)
        return false;
    pool->base = (uint64_t)base;
    pool->pages = pages;
    pool->used = 0;
    return true;
}

/* A zeroed page: zeroed here, not when the pool was reserved (some 15 of
 * its 42 pages are used in a PC's boot). */
static __attribute__((noinline)) uint64_t pool_alloc(void *arg)
{
    struct page_pool *pool = arg;
    if (pool->used == pool->pages)
        return 0;
    uint64_t page = pool->base + (pool->used++ << 12);
    stub_zero((void *)page, 4096);
    return page;
}

static bool cpu_has_nx(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u), "c"(0));
    if (a < 0x80000001u)
        return false;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001u), "c"(0));
    return (d >> 20) & 1;
}

static void enable_nxe(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080u));
    lo |= 1u << 11;
    __asm__ volatile("wrmsr" : : "a"(lo), "d"(hi), "c"(0xc0000080u));
}

#define GIB (1ULL << 30)

/* The entry for `va` in its table at `level` (4 the root, 1 a page
 * table), making the tables on the way from the pool: pt_map's entry
 * format (tables PTE_P | PTE_W, leaves with PTE_PS above level 1), in a
 * few dozen bytes of code. Not pt_map itself: the stub's code is stored
 * unpacked in hv.efi, and hv/mm/pagetable.c's checks, splitting and
 * unmapping, which the stub needs none of, took 1.2 KB of it. The stub
 * runs on the firmware's identity map: table addresses are pointers. */
static uint64_t *boot_entry(struct page_pool *pool, uint64_t root, uint64_t va, int level)
{
    uint64_t *table = (uint64_t *)root;
    for (int l = 4; l > level; l--) {
        uint64_t *e = &table[(va >> (12 + 9 * (l - 1))) & 511];
        if (!(*e & PTE_P)) {
            uint64_t next = pool_alloc(pool);
            if (!next)
                return NULL;
            *e = next | PTE_P | PTE_W;
        } else if (*e & PTE_PS) {
            return NULL; /* a large page there already: the maps overlap */
        }
        table = (uint64_t *)(*e & PTE_ADDR_MASK);
    }
    return &table[(va >> (12 + 9 * (level - 1))) & 511];
}

/* Maps [0, top) at `va` in 2 MiB pages (top a multiple of 2 MiB, va of
 * 1 GiB): each GiB's page directory is found (or made) once and its 512
 * entries are plain stores (the two maps of 4 GiB are 4096 leaves). */
static bool map_2m_pages(struct page_pool *pool, uint64_t root, uint64_t va, uint64_t top,
                         uint64_t flags)
{
    for (uint64_t gib = 0; gib < top; gib += GIB) {
        uint64_t *pd = boot_entry(pool, root, va + gib, 2);
        if (!pd)
            return false;
        uint64_t end = top - gib < GIB ? top - gib : GIB;
        for (uint64_t off = 0; off < end; off += MIB2)
            pd[off / MIB2] = (gib + off) | flags | PTE_P | PTE_PS;
    }
    return true;
}

uint64_t stub_build_boot_tables(struct page_pool *pool, const struct handoff *h)
{
    uint64_t nx = 0;
    if (cpu_has_nx()) {
        enable_nxe();
        nx = PTE_NX;
    }
    uint64_t root = pool_alloc(pool);
    if (!root)
        return 0;

    /* Everything the firmware described, up to at least 4 GiB so that the
     * low MMIO the runtime services may touch is covered. Caching is left to
     * the firmware's MTRRs, as the firmware's own identity map does. */
    uint64_t top = 1ULL << 32;
    for (uint32_t i = 0; i < h->mem_count; i++) {
        /* Device memory only an OS uses (PCI windows, possibly far above
         * RAM) is left to the core's device window; what runtime services
         * use is MEM_RUNTIME and is covered. */
        if (h->mem[i].kind == MEM_MMIO)
            continue;
        uint64_t end = efi_mapped_end(h->mem[i].base, h->mem[i].size);
        if (end > top)
            top = end;
    }
    top = (top + MIB2 - 1) & ~(MIB2 - 1);

    _Static_assert(HV_DIRECT_MAP_BASE % GIB == 0, "map_2m_pages wants whole GiBs");
    _Static_assert(HV_CORE_BASE % 4096 == 0, "the core is mapped in 4 KiB pages");
    if (!map_2m_pages(pool, root, 0, top, PTE_W) ||
        !map_2m_pages(pool, root, HV_DIRECT_MAP_BASE, top, PTE_W | nx))
        return 0;
    /* The core's image in 4 KiB pages, writable (the core maps itself W^X
     * at once): its size is whole pages (efi/core_load.c). */
    for (uint64_t off = 0; off < h->core_size; off += 4096) {
        uint64_t *e = boot_entry(pool, root, HV_CORE_BASE + off, 1);
        if (!e)
            return 0;
        *e = (h->core_phys + off) | PTE_W | PTE_P;
    }
    return root;
}
