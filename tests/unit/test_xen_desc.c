/* Xen's descriptor checks for a 64-bit PV guest (hv/xen/xen_desc.h):
 * what set_gdt and update_descriptor let a guest put in front of the CPU,
 * and which installed entries vcpu_load may reload into a data segment. */
#include "hv/xen/xen_desc.h"

#include "tests/unit/check.h"

/* base 0, limit 0xfffff, G: the usual flat segments, by DPL */
#define FLAT_CODE64(dpl) (0x00af9a000000ffffULL | ((uint64_t)(dpl) << 45))
#define FLAT_DATA(dpl) (0x00cf92000000ffffULL | ((uint64_t)(dpl) << 45))

static uint64_t gate(uint16_t sel, unsigned dpl)
{
    /* offset 0x1234, present, type 0xc (64-bit call gate), the DPL */
    return 0x1234ULL | ((uint64_t)sel << 16) | (1ULL << 47) | (0xcULL << 40) | ((uint64_t)dpl << 45);
}

static void not_present_passes_as_it_is(void)
{
    uint64_t d = 0xffff7fffffffffffULL & ~(1ULL << 47); /* every bit but P */
    uint64_t before = d;
    CHECK(xen_desc_check(&d));
    CHECK_EQ_U64(d, before);
    d = 0;
    CHECK(xen_desc_check(&d));
    CHECK_EQ_U64(d, 0);
}

static void code_and_data_become_ring_3(void)
{
    for (unsigned dpl = 0; dpl < 4; dpl++) {
        uint64_t c = FLAT_CODE64(dpl), s = FLAT_DATA(dpl);
        CHECK(xen_desc_check(&c));
        CHECK(xen_desc_check(&s));
        CHECK_EQ_U64(c, FLAT_CODE64(3)); /* never rings 0-2 */
        CHECK_EQ_U64(s, FLAT_DATA(3));
    }
    /* A base is the guest's (FS/GS take its 32 bits: a lower-half address). */
    uint64_t based = FLAT_DATA(3) | 0xff00000000000000ULL | 0x000000ffff0000ULL;
    uint64_t b = based;
    CHECK(xen_desc_check(&b));
    CHECK_EQ_U64(b, based);
}

static void only_64_bit_code(void)
{
    uint64_t code32 = 0x00cf9a000000ffffULL, code16 = 0x00009a000000ffffULL;
    uint64_t l_and_d = FLAT_CODE64(3) | (1ULL << 54);
    CHECK(!xen_desc_check(&code32)); /* no compatibility mode */
    CHECK(!xen_desc_check(&code16));
    CHECK(!xen_desc_check(&l_and_d));
    uint64_t c = FLAT_CODE64(3);
    CHECK(xen_desc_check(&c) && xen_desc_code64(c));
    CHECK(!xen_desc_code64(FLAT_DATA(3)));
    CHECK(!xen_desc_code64(c & ~(1ULL << 47)));
    uint64_t data32 = FLAT_DATA(0) | (1ULL << 54); /* D on data: big, harmless */
    CHECK(xen_desc_check(&data32));
}

static void system_descriptors_are_refused(void)
{
    /* LDT 2, 16-bit TSS 1/3, 64-bit TSS 9/0xb, 16-bit call gate 4,
     * task gate 5, interrupt/trap gates 0xe/0xf, reserved ones */
    unsigned refused[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa, 0xb, 0xd, 0xe, 0xf};
    for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        for (unsigned dpl = 0; dpl < 4; dpl++) {
            uint64_t d = (1ULL << 47) | ((uint64_t)refused[i] << 40) | ((uint64_t)dpl << 45) | 0x12345678ULL;
            CHECK(!xen_desc_check(&d));
        }
    uint64_t upper_half_of_a_gate = 0x00000000ffffffffULL; /* type 0, S 0, not present */
    CHECK(xen_desc_check(&upper_half_of_a_gate));
    uint64_t type0_present = (1ULL << 47) | 0xffffULL;
    CHECK(xen_desc_check(&type0_present)); /* harmless: loading it faults */
}

static void call_gates_always_fault_from_ring_3(void)
{
    for (unsigned dpl = 0; dpl < 4; dpl++) {
        uint64_t d = gate(0x4b, dpl);
        CHECK(xen_desc_check(&d));
        CHECK_EQ_U64((d >> 45) & 3, 0);                 /* DPL 0: #GP(selector) at ring 3 */
        CHECK_EQ_U64((d >> 16) & 0xffff, 0x48 | dpl);   /* the guest's DPL in the RPL */
        CHECK_EQ_U64(d & 0xffff, 0x1234);               /* offset kept */
        CHECK(d & (1ULL << 47));
    }
    uint64_t flat = gate(0xe033, 3), ldt = gate(0x1007, 3);
    CHECK(xen_desc_check(&flat));
    CHECK(xen_desc_check(&ldt));
    /* Never hv's selectors (0x08 is hv's ring-0 code), never Xen's reserved
     * ones but its flat code, never null. */
    uint16_t bad[] = {0x0008, 0x0010, 0x001b, 0x0023, 0x0028, 0x003b, 0x0000, 0x0003,
                      0xe000, 0xe008, 0xe02b, 0xe023, 0xfff8};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t d = gate(bad[i], 3);
        CHECK(!xen_desc_check(&d));
    }
    uint64_t reserved = gate(0x4b, 3) | (1ULL << 32); /* the IST field's place */
    CHECK(!xen_desc_check(&reserved));
}

static void loadable_ones(void)
{
    CHECK(xen_desc_loadable(FLAT_DATA(3)));
    CHECK(xen_desc_loadable(FLAT_CODE64(3)));                       /* readable code */
    CHECK(!xen_desc_loadable(FLAT_CODE64(3) & ~(1ULL << 41)));      /* execute-only */
    CHECK(!xen_desc_loadable(FLAT_DATA(3) & ~(1ULL << 47)));        /* not present */
    CHECK(!xen_desc_loadable(0));
    uint64_t g = gate(0x4b, 3);
    CHECK(xen_desc_check(&g));
    CHECK(!xen_desc_loadable(g)); /* a gate is no data segment */
}

int main(void)
{
    check_suite = "xen_desc";
    RUN_TEST(not_present_passes_as_it_is);
    RUN_TEST(code_and_data_become_ring_3);
    RUN_TEST(only_64_bit_code);
    RUN_TEST(system_descriptors_are_refused);
    RUN_TEST(call_gates_always_fault_from_ring_3);
    RUN_TEST(loadable_ones);
    return check_finish();
}
