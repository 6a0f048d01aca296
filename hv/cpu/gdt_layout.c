/* The GDT's descriptors: the one place they are defined (hv's and Xen's
 * flat ones). Pure, so tests/unit/test_gdt_layout.c checks the bits. */
#include "hv/cpu/gdt.h"

#define SEG_ACCESSED (1ULL << 40)
#define SEG_RW (1ULL << 41)        /* readable code / writable data */
#define SEG_EXEC (1ULL << 43)
#define SEG_CODE_DATA (1ULL << 44) /* S bit: code or data, not system */
#define SEG_DPL3 (3ULL << 45)
#define SEG_PRESENT (1ULL << 47)
#define SEG_LONG (1ULL << 53)
/* Base 0 and limit 0 for all of them (long mode ignores both for code and
 * data, except FS/GS bases, which a selector load sets to 0). */
#define DESC_BASE(d) ((((d) >> 16) & 0xffffffULL) | ((((d) >> 56) & 0xffULL) << 24))

#define DESC_KERNEL_CODE (SEG_PRESENT | SEG_CODE_DATA | SEG_EXEC | SEG_RW | SEG_LONG)
#define DESC_KERNEL_DATA (SEG_PRESENT | SEG_CODE_DATA | SEG_RW)
#define DESC_USER_DATA (SEG_PRESENT | SEG_CODE_DATA | SEG_RW | SEG_DPL3)
#define DESC_USER_CODE (SEG_PRESENT | SEG_CODE_DATA | SEG_EXEC | SEG_RW | SEG_LONG | SEG_DPL3)
/* Xen's: the accessed bit preset, because their page is shared by every
 * CPU and mapped read-only (the CPU sets it on a load otherwise). */
#define DESC_XEN_DATA (DESC_USER_DATA | SEG_ACCESSED)
#define DESC_XEN_CODE64 (DESC_USER_CODE | SEG_ACCESSED)

/* The GS-base invariant (hv/cpu/gs_base.h): a guest can load every DPL-3
 * descriptor into GS, which sets its base from the descriptor. */
_Static_assert(DESC_BASE(DESC_USER_DATA) == 0 && DESC_BASE(DESC_USER_CODE) == 0 &&
                   DESC_BASE(DESC_XEN_DATA) == 0 && DESC_BASE(DESC_XEN_CODE64) == 0,
               "a descriptor a guest can load has base 0");
_Static_assert(GDT_ENTRIES * 8 <= 4096, "hv's entries fit page 0");
_Static_assert(GDT_LIMIT == GDT_XEN_PAGE * 4096 + (SEL_XEN_CODE64 & 0xfff) + 7, "limit ends at 0xe037");
_Static_assert(GDT_LIMIT < GDT_WINDOW_PAGES * 4096, "the window holds the limit");

static uint64_t tss_low(uint64_t base, uint32_t limit)
{
    return (limit & 0xffffULL) | ((base & 0xffffffULL) << 16) | (0x9ULL << 40) /* available 64-bit TSS */
           | SEG_PRESENT | ((uint64_t)(limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
}

void gdt_fill_hv(uint64_t page[512], uint64_t tss_base, uint32_t tss_limit)
{
    page[0] = 0;
    page[SEL_KERNEL_CODE >> 3] = DESC_KERNEL_CODE;
    page[SEL_KERNEL_DATA >> 3] = DESC_KERNEL_DATA;
    page[SEL_USER_DATA >> 3] = DESC_USER_DATA;
    page[SEL_USER_CODE >> 3] = DESC_USER_CODE;
    page[SEL_TSS >> 3] = tss_low(tss_base, tss_limit);
    page[(SEL_TSS >> 3) + 1] = tss_base >> 32;
    /* Same as the user code slot: only the selector differs, so a guest
     * kernel can tell from a frame's CS which of its modes was interrupted. */
    page[SEL_GUEST_USER_CODE >> 3] = DESC_USER_CODE;
}

void gdt_fill_xen_page(uint64_t page[512])
{
    page[(SEL_XEN_CODE32 & 0xfff) >> 3] = 0; /* not present: no compat mode (R4) */
    page[(SEL_XEN_DATA & 0xfff) >> 3] = DESC_XEN_DATA;
    page[(SEL_XEN_CODE64 & 0xfff) >> 3] = DESC_XEN_CODE64;
}
