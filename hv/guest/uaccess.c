#include "hv/guest/uaccess.h"

#include "hv/cpu/spinlock.h"
#include "hv/guest/guest.h"
#include "hv/mm/mm.h"
#include "hv/mm/xpti.h"
#include "lib/nospec.h"

#define PAGE 4096ULL

/* hv/guest/uaccess_copy.S: direct accesses in the loaded space, whose
 * faults the exception table turns into -HV_EFAULT. */
int uaccess_copy(void *dst, const void *src, size_t n);
int uaccess_probe_write(uint64_t va);

/* A walk of s's tables for guest byte va, by the MMU's rule for a user
 * access: every level has the bits in `need` (P and U, W for a write)
 * and none in `refuse` (NX for a fetch). hv's intermediate entries are
 * P|W and never NX, and carry U exactly when a user leaf is beneath
 * (hv/mm/pagetable.h), so the rule and the leaf's own flags agree. The
 * root has no PS bit; below it PS ends the walk. Returns the leaf (0 if
 * refused) and the shift of its span. pt_lookup would do, but it also
 * merges flags for its callers and costs twice as much on the bounce
 * paths. */
static inline __attribute__((always_inline)) uint64_t
user_leaf(const struct pt_space *s, uint64_t va, uint64_t need, uint64_t refuse, unsigned *shift_out)
{
    uint64_t table = s->root_phys;
    for (unsigned shift = 39;; shift -= 9) {
        const uint64_t *t = (const uint64_t *)(table + s->direct_map_offset);
        uint64_t e = t[(va >> shift) & 511];
        if ((e & (need | refuse)) != need)
            return 0;
        if (shift == 12 || (shift < 39 && (e & PTE_PS))) {
            *shift_out = shift;
            return e;
        }
        table = e & PTE_ADDR_MASK;
    }
}

/* The page-walk route, for a space that is not loaded (a guest's kernel
 * space while one of its user spaces runs, another guest): the direct-map
 * address of guest byte va, if the guest may access it so. */
uint8_t *uaccess_translate(const struct pt_space *s, uint64_t va, bool write)
{
    unsigned shift;
    uint64_t e = user_leaf(s, va, PTE_P | PTE_U | (write ? PTE_W : 0), 0, &shift);
    if (!e)
        return NULL;
    uint64_t within = (1ULL << shift) - 1;
    return (uint8_t *)phys_to_virt((e & PTE_ADDR_MASK & ~within) | (va & within));
}

static bool range_ok(uint64_t va, size_t n)
{
    return va < HV_GUEST_LOWER_HALF_END && n <= HV_GUEST_LOWER_HALF_END - va;
}

/* The guest address a direct access may use after range_ok: the same, or
 * 0 on a path that mispredicted the check (Spectre v1): at worst the
 * guest's own page 0 (MEM_MAP allows one), never hv's memory, not even
 * speculatively. Only the start needs
 * it: from the lower half a copy reaches the upper half only through the
 * non-canonical hole, where every access faults. */
static uint64_t guest_va_nospec(uint64_t va)
{
    return array_index_nospec(va, HV_GUEST_LOWER_HALF_END);
}

/* A space that is not loaded here may be loaded on another CPU, where
 * another vCPU of its guest can unmap a page (and the frame go back to
 * the allocator) between this walk and the copy: the walked routes hold
 * the space's lock (its guest's mm_lock) from the walk to the last byte.
 * The copy goes through the direct map, so it cannot fault while held. */
static uint64_t walk_lock(const struct pt_space *s)
{
    return s->lock ? spin_lock_irqsave(s->lock) : irq_save();
}

static void walk_unlock(const struct pt_space *s, uint64_t irq)
{
    if (s->lock)
        spin_unlock_irqrestore(s->lock, irq);
    else
        irq_restore(irq);
}

static int copy_from_walked_locked(const struct pt_space *s, void *dst, uint64_t src_va, size_t n)
{
    uint8_t *out = dst;
    while (n) {
        size_t chunk = PAGE - (src_va & (PAGE - 1));
        if (chunk > n)
            chunk = n;
        const uint8_t *p = uaccess_translate(s, src_va, false);
        if (!p)
            return -HV_EFAULT;
        copy_bytes(out, p, chunk);
        out += chunk;
        src_va += chunk;
        n -= chunk;
    }
    return 0;
}

static __attribute__((noinline)) int copy_from_walked(const struct pt_space *s, void *dst,
                                                       uint64_t src_va, size_t n)
{
    uint64_t irq = walk_lock(s);
    int rc = copy_from_walked_locked(s, dst, src_va, n);
    walk_unlock(s, irq);
    return rc;
}

/* The direct route first, and without a stack frame (the other cases are
 * tail calls): it is the trap bounces' and hypercalls' path. */
int copy_from_space(const struct pt_space *s, void *dst, uint64_t src_va, size_t n)
{
    if (!range_ok(src_va, n))
        return -HV_EFAULT;
    if (space_loaded(s))
        return uaccess_copy(dst, (const void *)guest_va_nospec(src_va), n);
    return copy_from_walked(s, dst, src_va, n);
}

/* All or nothing (docs/abi.md): the copy writes upwards, so a first page
 * that is not writable faults before any byte is written; a write that
 * spans pages probes every later page first. Only a change of the
 * mappings by another vCPU during the copy can still leave part written
 * (docs/design.md, "Guest memory access"). */
static __attribute__((noinline)) int copy_to_pages(uint64_t dst_va, const void *src, size_t n)
{
    for (uint64_t page = (dst_va & ~(PAGE - 1)) + PAGE; page <= dst_va + n - 1; page += PAGE)
        if (uaccess_probe_write(page) != 0)
            return -HV_EFAULT;
    return uaccess_copy((void *)dst_va, src, n);
}

static int copy_to_walked_locked(const struct pt_space *s, uint64_t dst_va, const void *src,
                                 size_t n)
{
    if (n && (dst_va & (PAGE - 1)) + n <= PAGE) {
        /* Within one page: one walk decides and locates. */
        uint8_t *p = uaccess_translate(s, dst_va, true);
        if (!p)
            return -HV_EFAULT;
        copy_bytes(p, src, n);
        return 0;
    }
    /* Check every page first, so a bad range writes nothing at all. */
    for (uint64_t va = dst_va & ~(PAGE - 1); va < dst_va + n; va += PAGE)
        if (!uaccess_translate(s, va, true))
            return -HV_EFAULT;
    const uint8_t *in = src;
    while (n) {
        size_t chunk = PAGE - (dst_va & (PAGE - 1));
        if (chunk > n)
            chunk = n;
        copy_bytes(uaccess_translate(s, dst_va, true), in, chunk);
        in += chunk;
        dst_va += chunk;
        n -= chunk;
    }
    return 0;
}

static __attribute__((noinline)) int copy_to_walked(const struct pt_space *s, uint64_t dst_va,
                                                     const void *src, size_t n)
{
    uint64_t irq = walk_lock(s);
    int rc = copy_to_walked_locked(s, dst_va, src, n);
    walk_unlock(s, irq);
    return rc;
}

int copy_to_space(const struct pt_space *s, uint64_t dst_va, const void *src, size_t n)
{
    if (!range_ok(dst_va, n))
        return -HV_EFAULT;
    if (!space_loaded(s))
        return copy_to_walked(s, dst_va, src, n);
    dst_va = guest_va_nospec(dst_va);
    if ((dst_va & (PAGE - 1)) + n > PAGE)
        return copy_to_pages(dst_va, src, n);
    return uaccess_copy((void *)dst_va, src, n);
}

int copy_from_guest(struct guest *g, void *dst, uint64_t src_va, size_t n)
{
    return copy_from_space(&g->space, dst, src_va, n);
}

int copy_to_guest(struct guest *g, uint64_t dst_va, const void *src, size_t n)
{
    return copy_to_space(&g->space, dst_va, src, n);
}
