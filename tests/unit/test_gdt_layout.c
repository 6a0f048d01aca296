/* The GDT template (hv/cpu/gdt_layout.c): hv's descriptors unchanged, Xen's
 * flat ones where Xen PV guests load them, 0xe020 not present, and nothing
 * a guest can load with a base other than 0 (hv/cpu/gs_base.h). */
#include "hv/cpu/gdt.h"

#include <stdint.h>

#include "hv/cpu/gs_base.h"

#include "tests/unit/check.h"

#define PRESENT(d) (((d) >> 47) & 1)
#define DPL(d) (((d) >> 45) & 3)
#define CODE_DATA(d) (((d) >> 44) & 1)
#define EXEC(d) (((d) >> 43) & 1)
#define ACCESSED(d) (((d) >> 40) & 1)
#define LONG(d) (((d) >> 53) & 1)
#define BASE(d) ((((d) >> 16) & 0xffffff) | ((((d) >> 56) & 0xff) << 24))

static uint64_t page[512];

static void hv_entries_are_what_they_were(void)
{
    memset(page, 0, sizeof(page));
    gdt_fill_hv(page, 0xffffffff80123450ULL, 0x67);
    /* The values hv's GDT held before the window (ABI version 2 names
     * 0x1b, 0x23, 0x3b): a change here is a change of the guest ABI. */
    CHECK_EQ_U64(page[0], 0);
    CHECK_EQ_U64(page[1], 0x00209a0000000000ULL); /* 0x08 kernel code, long */
    CHECK_EQ_U64(page[2], 0x0000920000000000ULL); /* 0x10 kernel data */
    CHECK_EQ_U64(page[3], 0x0000f20000000000ULL); /* 0x18 ring-3 data */
    CHECK_EQ_U64(page[4], 0x0020fa0000000000ULL); /* 0x20 ring-3 code, long */
    CHECK_EQ_U64(page[7], page[4]);               /* 0x38 guest-user code */
    CHECK_EQ_U64(page[5] & 0xffff, 0x67);         /* TSS limit */
    CHECK_EQ_U64(BASE(page[5]) | (page[6] << 32), 0xffffffff80123450ULL);
    CHECK_EQ_U64((page[5] >> 40) & 0xf, 9);       /* available 64-bit TSS */
    for (int i = GDT_ENTRIES; i < 512; i++)
        CHECK_EQ_U64(page[i], 0);
}

static void xen_page_holds_the_flat_selectors(void)
{
    memset(page, 0, sizeof(page));
    gdt_fill_xen_page(page);
    uint64_t data = page[(0xe02b & 0xfff) >> 3], code = page[(0xe033 & 0xfff) >> 3];
    CHECK(PRESENT(data) && CODE_DATA(data) && !EXEC(data) && DPL(data) == 3 && ACCESSED(data));
    CHECK(PRESENT(code) && CODE_DATA(code) && EXEC(code) && LONG(code) && DPL(code) == 3 &&
          ACCESSED(code));
    CHECK_EQ_U64(page[(0xe023 & 0xfff) >> 3], 0); /* 32-bit code: not present */
    for (int i = 0; i < 512; i++)
        if (i != ((0xe02b & 0xfff) >> 3) && i != ((0xe033 & 0xfff) >> 3))
            CHECK_EQ_U64(page[i], 0);
    CHECK_EQ_U64(GDT_XEN_PAGE, 0xe000 / 4096);
    CHECK_EQ_U64(GDT_LIMIT, 0xe037);
}

static void no_guest_loadable_descriptor_has_a_base(void)
{
    uint64_t hv[512] = {0}, xen[512] = {0};
    gdt_fill_hv(hv, 0xffffffff80123450ULL, 0x67);
    gdt_fill_xen_page(xen);
    for (int i = 0; i < 512; i++) {
        if (PRESENT(hv[i]) && CODE_DATA(hv[i]) && DPL(hv[i]) == 3)
            CHECK_EQ_U64(BASE(hv[i]), 0);
        if (PRESENT(xen[i]) && CODE_DATA(xen[i]))
            CHECK(DPL(xen[i]) == 3 && BASE(xen[i]) == 0);
    }
}

/* The rule later GS-base setters must apply (hv/cpu/gs_base.h): exactly
 * the lower half, where isr_paranoid's sign test says "a guest's". */
static void gs_base_rule_is_the_lower_half(void)
{
    CHECK(guest_gs_base_allowed(0));
    CHECK(guest_gs_base_allowed(0x00007fffffffffffULL));
    CHECK(!guest_gs_base_allowed(0x0000800000000000ULL)); /* non-canonical */
    CHECK(!guest_gs_base_allowed(0xffff800000000000ULL)); /* upper half: hv's */
    CHECK(!guest_gs_base_allowed(0xffffffff80000000ULL));
    CHECK(!guest_gs_base_allowed(UINT64_MAX));
}

int main(void)
{
    check_suite = "gdt_layout";
    RUN_TEST(hv_entries_are_what_they_were);
    RUN_TEST(xen_page_holds_the_flat_selectors);
    RUN_TEST(no_guest_loadable_descriptor_has_a_base);
    RUN_TEST(gs_base_rule_is_the_lower_half);
    return check_finish();
}
