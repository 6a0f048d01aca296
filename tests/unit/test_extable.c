/* hv/cpu/extable_search.c: only a listed fault address has a fixup; every
 * other address, its neighbours included, has none (a panic in hv); and
 * hv/cpu/extable.h's rule for which exceptions may be fixed at all. */
#include "check.h"
#include "hv/cpu/extable.h"

static const struct extable_entry table[] = {
    {0xffffffff80001000ull, 0xffffffff80001100ull},
    {0xffffffff80001003ull, 0xffffffff80001100ull},
    {0xffffffff80000800ull, 0xffffffff80000900ull}, /* the table need not be sorted */
};
#define END (table + sizeof(table) / sizeof(table[0]))

static void listed_addresses_find_their_fixup(void)
{
    CHECK_EQ_U64(extable_search(table, END, 0xffffffff80001000ull), 0xffffffff80001100ull);
    CHECK_EQ_U64(extable_search(table, END, 0xffffffff80001003ull), 0xffffffff80001100ull);
    CHECK_EQ_U64(extable_search(table, END, 0xffffffff80000800ull), 0xffffffff80000900ull);
}

static void other_addresses_have_none(void)
{
    static const uint64_t others[] = {0, 0x10, 0xffffffff80000fffull, 0xffffffff80001001ull,
                                      0xffffffff80001002ull, 0xffffffff80001004ull,
                                      0xffffffff80001100ull, 0xffffffff80000801ull, UINT64_MAX};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        CHECK_EQ_U64(extable_search(table, END, others[i]), 0);
}

static void an_empty_table_has_none(void)
{
    CHECK_EQ_U64(extable_search(table, table, 0xffffffff80001000ull), 0);
}

/* extable_fault_on_guest: only a #PF on a lower-half address may be a
 * copy's fault on guest memory. A #PF on hv's half, and a #GP (a
 * non-canonical address: never a range-checked guest one, so hv's side of
 * the copy), are hv bugs that must reach the panic. */
static void only_a_page_fault_on_a_guest_address_is_fixed(void)
{
    CHECK(extable_fault_on_guest(14, 0));
    CHECK(extable_fault_on_guest(14, 0x10));
    CHECK(extable_fault_on_guest(14, 0x00007fffffffffffull));
    CHECK(!extable_fault_on_guest(14, 0x0000800000000000ull));
    CHECK(!extable_fault_on_guest(14, 0xffff800000000000ull));
    CHECK(!extable_fault_on_guest(14, 0xffffffff80001000ull));
    CHECK(!extable_fault_on_guest(13, 0)); /* #GP: no address, never the guest's */
    CHECK(!extable_fault_on_guest(13, 0x1000));
    for (uint64_t v = 0; v < 32; v++)
        if (v != 14)
            CHECK(!extable_fault_on_guest(v, 0x1000));
}

int main(void)
{
    check_suite = "extable";
    RUN_TEST(listed_addresses_find_their_fixup);
    RUN_TEST(other_addresses_have_none);
    RUN_TEST(an_empty_table_has_none);
    RUN_TEST(only_a_page_fault_on_a_guest_address_is_fixed);
    return check_finish();
}
