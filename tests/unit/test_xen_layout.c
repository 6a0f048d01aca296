/* The start-of-day layout (hv/xen/xen_layout.c) against the layout rules of
 * Xen's public xen.h comment and the order of libxenguest's PV builder,
 * with the figures worked out by hand in docs/plans/xen-personality.md (a)
 * for the two yardstick images. */
#include "hv/xen/xen_layout.h"

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

int main(void)
{
    check_suite = "xen_layout";
    RUN_TEST(xtf_example_128_mib);
    RUN_TEST(xtf_example_32_mib_moves_down_48_pages);
    RUN_TEST(minios_at_zero_32_mib);
    RUN_TEST(rules_hold_across_sizes);
    RUN_TEST(too_little_memory_is_refused);
    RUN_TEST(hostile_arguments_are_refused);
    return check_finish();
}
