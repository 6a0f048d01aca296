/* What the page-table test guests (xen_mm.c, xen_mm_hostile.c) both use:
 * entry bits, mmu_update and mmuext_op of one request, and a walk of
 * their own page tables (readable: Xen maps them read-only). */
#pragma once

#include "tests/guests/xen/xen_guest.h"

#define PAGE 4096ULL
#define PTE_P 0x1ULL
#define PTE_W 0x2ULL
#define PTE_U 0x4ULL
#define PTE_A 0x20ULL
#define PTE_PS 0x80ULL
#define PTE_NX (1ULL << 63)
#define ADDR 0x000ffffffffff000ULL
#define L1_RW (PTE_P | PTE_W | PTE_A)
#define UPPER (PTE_P | PTE_W | PTE_U | PTE_A)

static inline void expect_rc(long rc, long want, const char *what)
{
    check(rc == want, what, "returned %ld, want %ld", rc, want);
}

/* mmu_update of n requests at r (any pointer, any count: the hostile
 * guest's are bad on purpose). */
static inline long mmu(const void *r, uint64_t n, uint32_t *done, uint64_t dom)
{
    return hcall4(XEN_HC_mmu_update, (uint64_t)r, n, (uint64_t)done, dom);
}

static inline long mmu1(uint64_t ptr, uint64_t val)
{
    struct xen_mmu_update r = {ptr, val};
    return mmu(&r, 1, 0, XEN_DOMID_SELF);
}

static inline long mmuext(uint32_t cmd, uint64_t arg1, uint64_t dom)
{
    struct xen_mmuext_op op = {.cmd = cmd, .arg1 = arg1};
    return hcall4(XEN_HC_mmuext_op, (uint64_t)&op, 1, 0, dom);
}

/* The machine address of the entry of `level` that maps va, walking its
 * own tables from pt_base (pfn = va for its region); 0 if a table on the
 * way is not present. */
static inline uint64_t entry_maddr(const struct xen_start_info *si, uint64_t va, int level)
{
    uint64_t table = si->pt_base & ADDR;
    for (int l = 4;; l--) {
        uint64_t idx = (va >> (12 + 9 * (l - 1))) & 511;
        if (l == level)
            return table + idx * 8;
        uint64_t e = ((volatile uint64_t *)table)[idx];
        if (!(e & PTE_P))
            return 0;
        table = e & ADDR;
    }
}
