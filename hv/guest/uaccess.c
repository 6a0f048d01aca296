#include "hv/guest/uaccess.h"

#include "hv/guest/guest.h"
#include "hv/mm/mm.h"

#define PAGE 4096ULL

/* The direct-map address of guest byte va, if the guest may access it so. */
static uint8_t *translate(const struct pt_space *s, uint64_t va, bool write)
{
    uint64_t pa, flags;
    if (!pt_lookup(s, va & ~(PAGE - 1), &pa, &flags))
        return NULL;
    if (!(flags & PTE_U) || (write && !(flags & PTE_W)))
        return NULL;
    return (uint8_t *)phys_to_virt(pa) + (va & (PAGE - 1));
}

static bool range_ok(uint64_t va, size_t n)
{
    return va < HV_GUEST_LOWER_HALF_END && n <= HV_GUEST_LOWER_HALF_END - va;
}

bool guest_code_mapped(const struct pt_space *s, uint64_t va)
{
    uint64_t pa, flags;
    return va < HV_GUEST_LOWER_HALF_END && pt_lookup(s, va & ~(PAGE - 1), &pa, &flags) &&
           (flags & PTE_U) && !(flags & PTE_NX);
}

int copy_from_space(const struct pt_space *s, void *dst, uint64_t src_va, size_t n)
{
    if (!range_ok(src_va, n))
        return -HV_EFAULT;
    uint8_t *out = dst;
    while (n) {
        size_t chunk = PAGE - (src_va & (PAGE - 1));
        if (chunk > n)
            chunk = n;
        const uint8_t *p = translate(s, src_va, false);
        if (!p)
            return -HV_EFAULT;
        for (size_t i = 0; i < chunk; i++)
            out[i] = p[i];
        out += chunk;
        src_va += chunk;
        n -= chunk;
    }
    return 0;
}

int copy_to_space(const struct pt_space *s, uint64_t dst_va, const void *src, size_t n)
{
    if (!range_ok(dst_va, n))
        return -HV_EFAULT;
    /* Check every page first, so a bad range writes nothing at all. */
    for (uint64_t va = dst_va & ~(PAGE - 1); va < dst_va + n; va += PAGE)
        if (!translate(s, va, true))
            return -HV_EFAULT;
    const uint8_t *in = src;
    while (n) {
        size_t chunk = PAGE - (dst_va & (PAGE - 1));
        if (chunk > n)
            chunk = n;
        uint8_t *p = translate(s, dst_va, true);
        for (size_t i = 0; i < chunk; i++)
            p[i] = in[i];
        in += chunk;
        dst_va += chunk;
        n -= chunk;
    }
    return 0;
}

int copy_from_guest(struct guest *g, void *dst, uint64_t src_va, size_t n)
{
    return copy_from_space(&g->space, dst, src_va, n);
}

int copy_to_guest(struct guest *g, uint64_t dst_va, const void *src, size_t n)
{
    return copy_to_space(&g->space, dst_va, src, n);
}
