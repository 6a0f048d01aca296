/* The start-of-day layout (hv/xen/xen_layout.c) against the layout rules of
 * Xen's public xen.h comment and the order of libxenguest's PV builder,
 * with the figures worked out by hand in docs/plans/xen-personality.md (a)
 * for the two yardstick images. */
#include "hv/xen/xen_layout.h"
#include "hv/xen/xen_hcpage.h"

#include <string.h>

#include "tests/unit/check.h"

#define MIB (1ULL << 20)
#define IMAGE_MAX 0x0000800000000000ULL
static char why[160];

static void xtf_example_128_mib(void)
{
    struct xen_layout l;
    CHECK_EQ_U64(xen_layout_compute(0, 0x100000, 0x111000, 128 * MIB / 4096, IMAGE_MAX, &l, why,
                                    sizeof(why)), 0);
    CHECK_EQ_U64(l.p2m, 0x111000);
    CHECK_EQ_U64(l.p2m_pages, 64);
    CHECK_EQ_U64(l.start_info, 0x151000);
    CHECK_EQ_U64(l.store, 0x152000);
    CHECK_EQ_U64(l.console, 0x153000);
    CHECK_EQ_U64(l.pt_base, 0x154000);
    CHECK_EQ_U64(l.nr_pt_frames, 5);
    CHECK_EQ_U64(l.nr_l3, 1);
    CHECK_EQ_U64(l.nr_l2, 1);
    CHECK_EQ_U64(l.nr_l1, 2);
    CHECK_EQ_U64(l.stack, 0x159000);
    CHECK_EQ_U64(l.rsp, 0x15a000);
    CHECK_EQ_U64(l.v_end, 0x400000);
    CHECK_EQ_U64(l.pages_needed, 0x400);
}

static void xtf_example_32_mib_moves_down_48_pages(void)
{
    struct xen_layout l;
    CHECK_EQ_U64(xen_layout_compute(0, 0x100000, 0x111000, 32 * MIB / 4096, IMAGE_MAX, &l, why,
                                    sizeof(why)), 0);
    CHECK_EQ_U64(l.p2m_pages, 16);
    CHECK_EQ_U64(l.start_info, 0x151000 - 48 * 4096);
    CHECK_EQ_U64(l.pt_base, 0x154000 - 48 * 4096);
    CHECK_EQ_U64(l.rsp, 0x15a000 - 48 * 4096);
    CHECK_EQ_U64(l.v_end, 0x400000);
}

static void minios_at_zero_32_mib(void)
{
    struct xen_layout l;
    CHECK_EQ_U64(xen_layout_compute(0, 0, 0x6f000, 32 * MIB / 4096, IMAGE_MAX, &l, why, sizeof(why)), 0);
    CHECK_EQ_U64(l.p2m, 0x6f000);
    CHECK_EQ_U64(l.start_info, 0x7f000);
    CHECK_EQ_U64(l.store, 0x80000);
    CHECK_EQ_U64(l.console, 0x81000);
    CHECK_EQ_U64(l.pt_base, 0x82000);
    CHECK_EQ_U64(l.nr_pt_frames, 5);
    CHECK_EQ_U64(l.stack, 0x87000);
    CHECK_EQ_U64(l.rsp, 0x88000);
    CHECK_EQ_U64(l.v_end, 0x400000);
}

/* The rules themselves, for sizes where the count of tables changes: the
 * padding is at least 512 KiB, the end on 4 MiB, and the tables map exactly
 * [virt_base, v_end) with one L4, then one table per 512 GiB, 1 GiB, 2 MiB. */
static void rules_hold_across_sizes(void)
{
    static const uint64_t sizes[] = {1024, 4096, 8192, 65536, 262144, 1u << 20, 1u << 24};
    static const uint64_t kends[] = {0x111000, 0x3ff000, 0x1000000, 0x40000000};
    for (unsigned k = 0; k < sizeof(kends) / sizeof(kends[0]); k++) {
        for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            struct xen_layout l;
            if (xen_layout_compute(0, 0x100000, kends[k], sizes[i], IMAGE_MAX, &l, why, sizeof(why)) != 0) {
                CHECK(strstr(why, "alone needs") != NULL); /* only refusal: too little memory */
                continue;
            }
            CHECK_EQ_U64(l.p2m, kends[k]);
            CHECK_EQ_U64(l.p2m_pages * 4096 >= sizes[i] * 8 && (l.p2m_pages - 1) * 4096 < sizes[i] * 8, 1);
            CHECK_EQ_U64(l.v_end % (4 * MIB), 0);
            CHECK(l.v_end - l.rsp >= 512 * 1024);
            CHECK(l.v_end - l.rsp < 512 * 1024 + 4 * MIB);
            CHECK_EQ_U64(l.nr_l1, (l.v_end - 1) / (2 * MIB) + 1);
            CHECK_EQ_U64(l.nr_l2, (l.v_end - 1) / (1ULL << 30) + 1);
            CHECK_EQ_U64(l.nr_pt_frames, 1 + l.nr_l3 + l.nr_l2 + l.nr_l1);
            CHECK_EQ_U64(l.stack, l.pt_base + l.nr_pt_frames * 4096);
            CHECK(l.pages_needed <= sizes[i]);
        }
    }
}

static void too_little_memory_is_refused(void)
{
    struct xen_layout l;
    /* 1 MiB image start + padding to 4 MiB needs 1024 pages. */
    CHECK(xen_layout_compute(0, 0x100000, 0x111000, 1023, IMAGE_MAX, &l, why, sizeof(why)) < 0);
    CHECK(strstr(why, "alone needs 1024") != NULL);
    CHECK_EQ_U64(xen_layout_compute(0, 0x100000, 0x111000, 1024, IMAGE_MAX, &l, why, sizeof(why)), 0);
}

static void hostile_arguments_are_refused(void)
{
    struct xen_layout l;
    CHECK(xen_layout_compute(0, 0x100001, 0x111000, 8192, IMAGE_MAX, &l, why, sizeof(why)) < 0);
    CHECK(xen_layout_compute(0x200000, 0x100000, 0x111000, 8192, IMAGE_MAX, &l, why, sizeof(why)) < 0);
    CHECK(xen_layout_compute(0, 0x111000, 0x111000, 8192, IMAGE_MAX, &l, why, sizeof(why)) < 0);
    CHECK(xen_layout_compute(0, 0x100000, 0x111000, 0, IMAGE_MAX, &l, why, sizeof(why)) < 0);
    CHECK(xen_layout_compute(0, 0x100000, 0x111000, UINT64_MAX, IMAGE_MAX, &l, why, sizeof(why)) < 0);
    CHECK(xen_layout_compute(0, 0x100000, 0x111000, UINT64_MAX / 8 + 1, IMAGE_MAX, &l, why, sizeof(why)) < 0);
    /* An image near the end of the area: the region would pass it. */
    CHECK(xen_layout_compute(0, IMAGE_MAX - 0x10000, IMAGE_MAX - 0x1000, 8192, IMAGE_MAX, &l, why,
                             sizeof(why)) < 0);
    CHECK(strstr(why, "past") != NULL);
}


/* RAM just enough for the region: XTF's example settles at 1024 pages
 * (P2M 2 pages), a kernel that needs more than 4 MiB grows it, and the
 * result always satisfies xen_layout_compute with nr_pages = its answer. */
static void settle_finds_the_smallest_ram(void)
{
    struct xen_layout l;
    CHECK_EQ_U64(xen_layout_settle(0, 0x100000, 0x111000, IMAGE_MAX, &l, why, sizeof(why)), 1024);
    CHECK_EQ_U64(l.p2m_pages, 2);
    CHECK_EQ_U64(l.start_info, 0x113000);
    CHECK_EQ_U64(l.pt_base, 0x116000);
    CHECK_EQ_U64(l.v_end, 0x400000);
    for (uint64_t kend = 0x200000; kend < 0x4000000; kend += 0x3ff000) {
        uint64_t n = xen_layout_settle(0, 0x100000, kend, IMAGE_MAX, &l, why, sizeof(why));
        CHECK(n >= 1024);
        CHECK(n * 4096 >= l.v_end);
        CHECK_EQ_U64(l.p2m_pages, (n * 8 + 4095) / 4096);
        struct xen_layout again;
        CHECK_EQ_U64(xen_layout_compute(0, 0x100000, kend, n, IMAGE_MAX, &again, why, sizeof(why)), 0);
        CHECK_EQ_U64(again.v_end, l.v_end);
    }
    CHECK_EQ_U64(xen_layout_settle(0, 0x100000, 0x100000, IMAGE_MAX, &l, why, sizeof(why)), 0);
    CHECK(why[0] != 0);
}

/* The guest's view of its initial tables: each va's L1 entry names its own
 * pfn, P|RW|A, without RW for the tables' own frames; the upper levels
 * link the tables in the order the layout lists them (L4, L3s, L2s, L1s). */
static void guest_tables_are_xens_format(void)
{
    struct xen_layout l;
    CHECK_EQ_U64(xen_layout_compute(0, 0x100000, 0x111000, 32 * MIB / 4096, IMAGE_MAX, &l, why,
                                    sizeof(why)), 0);
    CHECK_EQ_U64(xen_layout_entry(&l, 1, 0x100000), 0x100023);
    CHECK_EQ_U64(xen_layout_entry(&l, 1, 0), 0x23);
    CHECK_EQ_U64(xen_layout_entry(&l, 1, l.pt_base), l.pt_base | 0x21);
    CHECK_EQ_U64(xen_layout_entry(&l, 1, l.pt_base + (l.nr_pt_frames - 1) * 4096),
                 (l.pt_base + (l.nr_pt_frames - 1) * 4096) | 0x21);
    CHECK_EQ_U64(xen_layout_entry(&l, 1, l.stack), l.stack | 0x23);
    CHECK_EQ_U64(xen_layout_table_va(&l, 4, 0x3ff000), l.pt_base);
    CHECK_EQ_U64(xen_layout_table_va(&l, 3, 0x3ff000), l.pt_base + 0x1000);
    CHECK_EQ_U64(xen_layout_table_va(&l, 2, 0x3ff000), l.pt_base + 0x2000);
    CHECK_EQ_U64(xen_layout_table_va(&l, 1, 0x1ff000), l.pt_base + 0x3000);
    CHECK_EQ_U64(xen_layout_table_va(&l, 1, 0x200000), l.pt_base + 0x4000);
    CHECK_EQ_U64(xen_layout_entry(&l, 4, 0x200000), (l.pt_base + 0x1000) | 0x67);
    CHECK_EQ_U64(xen_layout_entry(&l, 3, 0x200000), (l.pt_base + 0x2000) | 0x67);
    CHECK_EQ_U64(xen_layout_entry(&l, 2, 0x200000), (l.pt_base + 0x4000) | 0x67);
    /* Mini-OS's shape, at 0: the same rules. */
    CHECK_EQ_U64(xen_layout_compute(0, 0, 0x6f000, 32 * MIB / 4096, IMAGE_MAX, &l, why,
                                    sizeof(why)), 0);
    CHECK_EQ_U64(xen_layout_entry(&l, 1, 0x1000), 0x1023);
    CHECK_EQ_U64(xen_layout_entry(&l, 2, 0), (l.pt_base + 0x3000) | 0x67);
}

/* The hypercall page: Xen's 64-bit stubs, iret's special, int3 between. */
static void hypercall_page_stubs(void)
{
    static uint8_t page[4096];
    xen_hypercall_page_fill(page);
    static const uint8_t stub17[] = {0x51, 0x41, 0x53, 0xb8, 17, 0, 0, 0, 0x0f, 0x05,
                                     0x41, 0x5b, 0x59, 0xc3};
    CHECK(memcmp(page + 17 * 32, stub17, sizeof(stub17)) == 0);
    for (unsigned i = sizeof(stub17); i < 32; i++)
        CHECK_EQ_U64(page[17 * 32 + i], 0xcc);
    static const uint8_t iret[] = {0x51, 0x41, 0x53, 0x50, 0xb8, 23, 0, 0, 0, 0x0f, 0x05, 0xcc};
    CHECK(memcmp(page + 23 * 32, iret, sizeof(iret)) == 0);
    CHECK_EQ_U64(page[127 * 32 + 4], 127);
    CHECK_EQ_U64(page[4095], 0xcc);
}

/* The guest's pages for an allowance (xen_layout_ram_pages): the figures
 * the system tests and the Mini-OS run see, the edges, and no wrap. */
static void ram_pages_from_the_allowance(void)
{
    CHECK_EQ_U64(xen_layout_ram_pages(1024, 16 * MIB / 4096, 16384), 3584);  /* xen-mm's 16M */
    CHECK_EQ_U64(xen_layout_ram_pages(1024, 32 * MIB / 4096, 16384), 7680);  /* Mini-OS's 32M */
    CHECK_EQ_U64(xen_layout_ram_pages(1024, 5188 / 4, 16384), 1024);         /* the default */
    CHECK_EQ_U64(xen_layout_ram_pages(1024, 1024 + 256, 16384), 1024);       /* the reserve only */
    CHECK_EQ_U64(xen_layout_ram_pages(1024, 1024 + 256 + 515, 16384), 1024); /* not a whole step */
    CHECK_EQ_U64(xen_layout_ram_pages(1024, 1024 + 256 + 516, 16384), 1536); /* one step */
    CHECK_EQ_U64(xen_layout_ram_pages(1024, 1000, 16384), 1024);             /* less than the region */
    CHECK_EQ_U64(xen_layout_ram_pages(1024, 1ULL << 40, 16384), 16384);      /* capped */
    CHECK_EQ_U64(xen_layout_ram_pages(1024, ~0ULL, 16384), 16384);           /* no wrap */
    CHECK_EQ_U64(xen_layout_ram_pages(20000, ~0ULL, 16384), 20000);          /* region past the cap */
    CHECK_EQ_U64(xen_layout_ram_pages(1536, 64 * MIB / 4096, 16384), 15872); /* steps from the region */
    for (uint64_t a = 0; a < 40000; a += 37) {
        uint64_t n = xen_layout_ram_pages(1024, a, 16384);
        CHECK(n >= 1024 && n <= 16384 && (n - 1024) % 512 == 0);
        CHECK(n == 1024 || n + (n - 1024) / 512 * 4 + 256 <= a);
    }
}

int main(void)
{
    check_suite = "xen_layout";
    RUN_TEST(xtf_example_128_mib);
    RUN_TEST(xtf_example_32_mib_moves_down_48_pages);
    RUN_TEST(minios_at_zero_32_mib);
    RUN_TEST(rules_hold_across_sizes);
    RUN_TEST(too_little_memory_is_refused);
    RUN_TEST(hostile_arguments_are_refused);
    RUN_TEST(settle_finds_the_smallest_ram);
    RUN_TEST(guest_tables_are_xens_format);
    RUN_TEST(hypercall_page_stubs);
    RUN_TEST(ram_pages_from_the_allowance);
    return check_finish();
}
