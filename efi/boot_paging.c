/* The boot page tables the stub switches to before jumping into the core:
 *   - the identity map of physical memory the firmware set up, kept so the
 *     jump itself, and later ResetSystem, run where they are;
 *   - the direct map of the same memory at HV_DIRECT_MAP_BASE;
 *   - the core at HV_CORE_BASE.
 * They are short-lived: the core builds its final, W^X tables at once and
 * keeps these only for calling the firmware at power-off. */
#include "efi/stub.h"
#include "hv/mm/pagetable.h"

#define MIB2 (2ULL << 20)

bool stub_reserve_page_pool(struct page_pool *pool, UINTN pages)
{
    void *base = stub_alloc_pages(pages);
    if (!base)
        return false;
    pool->base = (uint64_t)base;
    pool->pages = pages;
    pool->used = 0;
    return true;
}

/* Pool pages were zeroed when the pool was allocated. */
static uint64_t pool_alloc(void *arg)
{
    struct page_pool *pool = arg;
    if (pool->used == pool->pages)
        return 0;
    return pool->base + (pool->used++ << 12);
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

/* Maps [0, top) at `va` in 2 MiB pages (top a multiple of 2 MiB, va of
 * 1 GiB). pt_map walks from the root for every leaf, ~185 instructions
 * each, and the two maps of 4 GiB are 4096 leaves (~0.75 M instructions at
 * boot: docs/benchmarks.md, boot_first_guest). Here pt_map places each
 * GiB's first leaf, which makes its page directory, and the other 511 are
 * plain stores into that directory: the same entries, pt_map's own format.
 * The stub runs on the firmware's identity map: table addresses are
 * pointers. */
static bool map_2m_pages(struct pt_space *s, uint64_t va, uint64_t top, uint64_t flags)
{
    for (uint64_t gib = 0; gib < top; gib += GIB) {
        if (pt_map(s, va + gib, gib, MIB2, flags, PT_ALLOW_2M) != PT_OK)
            return false;
        uint64_t v = va + gib;
        uint64_t *pml4 = (uint64_t *)s->root_phys;
        uint64_t *pdpt = (uint64_t *)(pml4[(v >> 39) & 511] & PTE_ADDR_MASK);
        uint64_t *pd = (uint64_t *)(pdpt[(v >> 30) & 511] & PTE_ADDR_MASK);
        uint64_t end = top - gib < GIB ? top - gib : GIB;
        for (uint64_t off = MIB2; off < end; off += MIB2)
            pd[off / MIB2] = (gib + off) | flags | PTE_P | PTE_PS;
    }
    return true;
}

uint64_t stub_build_boot_tables(struct page_pool *pool, const struct handoff *h)
{
    struct pt_space s;
    uint64_t nx = 0;
    if (cpu_has_nx()) {
        enable_nxe();
        nx = PTE_NX;
    }
    if (pt_init(&s, 0, pool_alloc, pool) != PT_OK)
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
        uint64_t end = h->mem[i].base + h->mem[i].size;
        if (end > top && end > h->mem[i].base)
            top = end;
    }
    top = (top + MIB2 - 1) & ~(MIB2 - 1);

    _Static_assert(HV_DIRECT_MAP_BASE % GIB == 0, "map_2m_pages wants whole GiBs");
    if (!map_2m_pages(&s, 0, top, PTE_W) || !map_2m_pages(&s, HV_DIRECT_MAP_BASE, top, PTE_W | nx) ||
        pt_map(&s, HV_CORE_BASE, h->core_phys, h->core_size, PTE_W, 0) != PT_OK)
        return 0;
    return s.root_phys;
}
