/* The shared-page layout accessors (hv/guest/shared_layout.h) against the
 * two structures they describe: every field of every vCPU record and every
 * bitmap word lands where hv's struct hv_shared_info and Xen's struct
 * shared_info put it, and the records end before the bitmaps. */
#include "hv/guest/shared_layout.h"

#include "tests/unit/check.h"

static void native_layout_is_hvs(void)
{
    static struct hv_shared_info page;
    const struct shared_layout l = SHARED_LAYOUT_NATIVE;
    for (unsigned v = 0; v < l.vcpus; v++) {
        CHECK(shared_upcall_pending(&page, &l, v) == &page.vcpu[v].upcall_pending);
        CHECK(shared_upcall_mask(&page, &l, v) == &page.vcpu[v].upcall_mask);
        CHECK(shared_pending_sel(&page, &l, v) == &page.vcpu[v].pending_sel);
        CHECK(shared_cr2(&page, &l, v) == &page.vcpu[v].cr2);
    }
    for (unsigned w = 0; w < l.evtchn_words; w++) {
        CHECK(shared_pending_word(&page, &l, w) == &page.evtchn_pending[w]);
        CHECK(shared_mask_word(&page, &l, w) == &page.evtchn_mask[w]);
    }
    CHECK((unsigned)l.vcpus * l.vcpu_stride <= l.evtchn_pending);
    CHECK_EQ_U64(l.evtchn_pending, 512);
    CHECK_EQ_U64(l.evtchn_mask, 544);
    CHECK_EQ_U64(l.vcpu_stride, 32);
}

static void xen_layout_is_xens(void)
{
    static struct xen_shared_info page;
    const struct shared_layout l = SHARED_LAYOUT_XEN;
    for (unsigned v = 0; v < l.vcpus; v++) {
        CHECK(shared_upcall_pending(&page, &l, v) == &page.vcpu_info[v].evtchn_upcall_pending);
        CHECK(shared_upcall_mask(&page, &l, v) == &page.vcpu_info[v].evtchn_upcall_mask);
        CHECK(shared_pending_sel(&page, &l, v) == &page.vcpu_info[v].evtchn_pending_sel);
        CHECK(shared_cr2(&page, &l, v) == &page.vcpu_info[v].arch_cr2);
    }
    for (unsigned w = 0; w < l.evtchn_words; w++) {
        CHECK(shared_pending_word(&page, &l, w) == &page.evtchn_pending[w]);
        CHECK(shared_mask_word(&page, &l, w) == &page.evtchn_mask[w]);
    }
    CHECK((unsigned)l.vcpus * l.vcpu_stride <= l.evtchn_pending);
    CHECK_EQ_U64(l.evtchn_pending, 2048);
    CHECK_EQ_U64(l.evtchn_mask, 2560);
    CHECK_EQ_U64(l.vcpu_stride, 64);
    CHECK_EQ_U64(l.pending_sel, 8);
    CHECK_EQ_U64(l.cr2, 16);
    CHECK_EQ_U64(l.evtchn_words, 64);
}

/* A write through one layout's accessor is seen by that structure only
 * where the structure says: setting vCPU 3's mask in Xen's layout is byte
 * 3 * 64 + 1 of the page. */
static void writes_land_at_the_right_byte(void)
{
    static uint8_t page[4096];
    const struct shared_layout x = SHARED_LAYOUT_XEN, n = SHARED_LAYOUT_NATIVE;
    *shared_upcall_mask(page, &x, 3) = 1;
    CHECK_EQ_U64(page[3 * 64 + 1], 1);
    *shared_upcall_mask(page, &n, 3) = 1;
    CHECK_EQ_U64(page[3 * 32 + 1], 1);
    *shared_pending_word(page, &x, 1) = ~0ULL;
    CHECK_EQ_U64(page[2048 + 8], 0xff);
}

/* Indexes out of a layout's bounds (a guest's choice reaching an
 * accessor) land on index 0 inside the page, never beyond it. */
static void out_of_range_indexes_are_clamped(void)
{
    static uint8_t page[4096];
    const struct shared_layout x = SHARED_LAYOUT_XEN, n = SHARED_LAYOUT_NATIVE;
    CHECK_EQ_U64((uint64_t)shared_upcall_mask(page, &x, XEN_LEGACY_MAX_VCPUS),
                 (uint64_t)shared_upcall_mask(page, &x, 0));
    CHECK_EQ_U64((uint64_t)shared_cr2(page, &n, 0xffffffffu), (uint64_t)shared_cr2(page, &n, 0));
    CHECK_EQ_U64((uint64_t)shared_pending_word(page, &x, x.evtchn_words),
                 (uint64_t)shared_pending_word(page, &x, 0));
    CHECK_EQ_U64((uint64_t)shared_mask_word(page, &n, 1u << 31), (uint64_t)shared_mask_word(page, &n, 0));
    CHECK_EQ_U64((uint64_t)shared_mask_word(page, &x, x.evtchn_words - 1),
                 (uint64_t)shared_mask_word(page, &x, 0) + 8 * (x.evtchn_words - 1));
}

int main(void)
{
    check_suite = "shared_layout";
    RUN_TEST(native_layout_is_hvs);
    RUN_TEST(xen_layout_is_xens);
    RUN_TEST(writes_land_at_the_right_byte);
    RUN_TEST(out_of_range_indexes_are_clamped);
    return check_finish();
}
