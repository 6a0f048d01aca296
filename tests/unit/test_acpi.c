/* ACPI parser tests: the RSDP, the root tables (RSDT, XSDT) and the checks
 * every table gets (tests/unit/acpi_fixture.h builds the firmware; the MADT,
 * HPET and FADT have test_acpi_madt.c and test_acpi_fadt.c). */
#include "tests/unit/acpi_fixture.h"

/* ---- RSDP and root tables ---- */

static void rsdp_v0_uses_rsdt(void)
{
    fw_reset();
    uint64_t tables[] = {simple_madt(4), make_hpet(0, 0xfed00000)};
    uint64_t rsdp = make_rsdp(0, make_root("RSDT", tables, 2), 0);
    CHECK_EQ_U64(parse(rsdp), ACPI_OK);
    CHECK_EQ_U64(info.revision, 0);
    CHECK(!info.used_xsdt);
    CHECK(info.have_madt);
    CHECK_EQ_U64(info.cpu_count, 1);
    CHECK_EQ_U64(info.apic_ids[0], 4);
    CHECK(info.have_hpet);
    CHECK_EQ_U64(info.hpet_phys, 0xfed00000);
    CHECK(!info.have_fadt);
    CHECK_EQ_U64(warning_count, 0);
}

static void rsdp_v0_needs_only_20_bytes(void)
{
    fw_reset();
    uint64_t tables[] = {simple_madt(2)};
    uint64_t rsdt = make_root("RSDT", tables, 1);
    uint64_t rsdp = alloc_at_end(20);
    fill_rsdp(rsdp, 0, (uint32_t)rsdt, 0, 0);
    CHECK_EQ_U64(parse(rsdp), ACPI_OK);
    CHECK(info.have_madt);
    CHECK_EQ_U64(parse_limit(rsdp, FW_LIMIT - 1), ACPI_ERR_RSDP_RANGE);
    CHECK(!info.have_madt);
}

static void rsdp_v2_prefers_xsdt(void)
{
    fw_reset();
    uint64_t via_rsdt[] = {simple_madt(1)};
    uint64_t via_xsdt[] = {simple_madt(7)};
    uint64_t rsdp = make_rsdp(2, make_root("RSDT", via_rsdt, 1), make_root("XSDT", via_xsdt, 1));
    CHECK_EQ_U64(parse(rsdp), ACPI_OK);
    CHECK_EQ_U64(info.revision, 2);
    CHECK(info.used_xsdt);
    CHECK_EQ_U64(info.cpu_count, 1);
    CHECK_EQ_U64(info.apic_ids[0], 7);
    CHECK_EQ_U64(warning_count, 0);
}

static void rsdp_bad_signature(void)
{
    fw_reset();
    uint64_t rsdp = make_rsdp(0, make_root("RSDT", NULL, 0), 0);
    fw_ptr(rsdp)[3] = 'X';
    fix_checksum(rsdp, 20, 8);
    CHECK_EQ_U64(parse(rsdp), ACPI_ERR_RSDP_SIGNATURE);
}

static void rsdp_bad_checksum(void)
{
    fw_reset();
    uint64_t tables[] = {simple_madt(1)};
    uint64_t rsdp = make_rsdp(0, make_root("RSDT", tables, 1), 0);
    fw_ptr(rsdp)[8] ^= 1;
    CHECK_EQ_U64(parse(rsdp), ACPI_ERR_RSDP_CHECKSUM);
    CHECK(!info.have_madt);
    CHECK_EQ_U64(info.cpu_count, 0); /* cleared, not left at 0xa5... */
    CHECK(warned("RSDP checksum mismatch"));
}

static void rsdp_bad_extended_checksum(void)
{
    fw_reset();
    uint64_t tables[] = {simple_madt(1)};
    uint64_t rsdp = make_firmware(tables, 1);
    fw_ptr(rsdp)[32] ^= 0x40; /* first 20 bytes still sum to zero */
    CHECK_EQ_U64(parse(rsdp), ACPI_ERR_RSDP_XCHECKSUM);
    CHECK(!info.have_madt);
}

static void rsdp_extended_checksum_covers_length(void)
{
    fw_reset();
    uint64_t tables[] = {simple_madt(9)};
    uint64_t rsdt = make_root("RSDT", tables, 1), xsdt = make_root("XSDT", tables, 1);
    uint64_t rsdp = fw_alloc(40);
    put32(rsdp, 36, 0x01020304); /* only a 40-byte sum sees these */
    fill_rsdp(rsdp, 2, (uint32_t)rsdt, xsdt, 40);
    CHECK_EQ_U64(parse(rsdp), ACPI_OK);
    CHECK_EQ_U64(info.apic_ids[0], 9);
    put8(rsdp, 39, 0x77);
    CHECK_EQ_U64(parse(rsdp), ACPI_ERR_RSDP_XCHECKSUM);
}

static void rsdp_v2_length_out_of_range(void)
{
    fw_reset();
    uint64_t rsdt = make_root("RSDT", NULL, 0);
    uint64_t rsdp = fw_alloc(36);
    fill_rsdp(rsdp, 2, (uint32_t)rsdt, 0, 20);
    CHECK_EQ_U64(parse(rsdp), ACPI_ERR_RSDP_LENGTH);
    fill_rsdp(rsdp, 2, (uint32_t)rsdt, 0, 36);
    put32(rsdp, 20, 0x10000);
    fix_checksum(rsdp, 20, 8);
    CHECK_EQ_U64(parse(rsdp), ACPI_ERR_RSDP_LENGTH);
}

static void rsdp_v2_beyond_limit(void)
{
    fw_reset();
    uint64_t rsdp = alloc_at_end(36);
    fill_rsdp(rsdp, 2, 0, 0, 36);
    CHECK_EQ_U64(parse(rsdp), ACPI_OK);
    /* 20 bytes fit, the 36-byte v2 structure does not */
    CHECK_EQ_U64(parse_limit(rsdp, FW_LIMIT - 1), ACPI_ERR_RSDP_RANGE);
    CHECK_EQ_U64(parse_limit(FW_LIMIT, FW_LIMIT), ACPI_ERR_RSDP_RANGE);
    CHECK_EQ_U64(parse_limit(FW_LIMIT - 19, FW_LIMIT), ACPI_ERR_RSDP_RANGE);
    CHECK_EQ_U64(parse_limit(UINT64_MAX - 5, FW_LIMIT), ACPI_ERR_RSDP_RANGE);
}

static void rsdp_v2_length_field_beyond_limit(void)
{
    fw_reset();
    /* The v1 part is the last 20 bytes of memory: the length field after it
     * must not be read (ASan would see it). */
    uint64_t rsdp = alloc_at_end(20);
    memcpy(fw_ptr(rsdp), "RSD PTR ", 8);
    put8(rsdp, 15, 2);
    fix_checksum(rsdp, 20, 8);
    CHECK_EQ_U64(parse(rsdp), ACPI_ERR_RSDP_RANGE);
}

static void out_null_is_refused(void)
{
    fw_reset();
    uint64_t rsdp = make_rsdp(0, make_root("RSDT", NULL, 0), 0);
    CHECK_EQ_U64(acpi_parse(rsdp, fw_offset(), FW_LIMIT, NULL, NULL, NULL), ACPI_ERR_ARGS);
}

static void xsdt_zero_falls_back_to_rsdt(void)
{
    fw_reset();
    uint64_t tables[] = {simple_madt(3)};
    uint64_t rsdp = make_rsdp(2, make_root("RSDT", tables, 1), 0);
    CHECK_EQ_U64(parse(rsdp), ACPI_OK);
    CHECK_EQ_U64(info.revision, 2);
    CHECK(!info.used_xsdt);
    CHECK(info.have_madt);
    CHECK_EQ_U64(info.apic_ids[0], 3);
    CHECK_EQ_U64(warning_count, 0);
}

static void xsdt_broken_falls_back_to_rsdt(void)
{
    fw_reset();
    uint64_t tables[] = {simple_madt(3)};
    uint64_t xsdt = make_root("XSDT", tables, 1);
    uint64_t rsdp = make_rsdp(2, make_root("RSDT", tables, 1), xsdt);
    fw_ptr(xsdt)[36] ^= 1;
    CHECK_EQ_U64(parse(rsdp), ACPI_OK);
    CHECK(!info.used_xsdt);
    CHECK(info.have_madt);
    CHECK(warned("ACPI: XSDT checksum mismatch, table ignored"));

    memcpy(fw_ptr(xsdt), "RSDT", 4); /* wrong signature */
    seal(xsdt);
    CHECK_EQ_U64(parse(rsdp), ACPI_OK);
    CHECK(!info.used_xsdt);
    CHECK(info.have_madt);
    CHECK(warned("XSDT signature mismatch"));

    /* XSDT address beyond the limit: never read */
    fill_rsdp(rsdp, 2, (uint32_t)make_root("RSDT", tables, 1), FW_LIMIT + 0x1000, 36);
    CHECK_EQ_U64(parse(rsdp), ACPI_OK);
    CHECK(info.have_madt);
    CHECK(warned("XSDT lies beyond"));
}

static void both_roots_broken(void)
{
    fw_reset();
    uint64_t tables[] = {simple_madt(3)};
    uint64_t rsdt = make_root("RSDT", tables, 1), xsdt = make_root("XSDT", tables, 1);
    uint64_t rsdp = make_rsdp(2, rsdt, xsdt);
    fw_ptr(rsdt)[9] ^= 1;
    fw_ptr(xsdt)[9] ^= 1;
    CHECK_EQ_U64(parse(rsdp), ACPI_OK); /* the RSDP itself was fine */
    CHECK(!info.have_madt);
    CHECK(warned("RSDT checksum mismatch"));
    CHECK(warned("XSDT checksum mismatch"));

    uint64_t rsdp0 = make_rsdp(0, 0, 0);
    CHECK_EQ_U64(parse(rsdp0), ACPI_OK);
    CHECK(warned("RSDT address is zero"));
}

static void root_entries_odd_and_null(void)
{
    fw_reset();
    uint64_t tables[] = {0, simple_madt(6)};
    uint64_t rsdt = make_root("RSDT", tables, 2);
    put32(rsdt, 4, 36 + 8 + 3); /* a partial third entry */
    seal(rsdt);
    uint64_t rsdp = make_rsdp(0, rsdt, 0);
    CHECK_EQ_U64(parse(rsdp), ACPI_OK);
    CHECK(info.have_madt);
    CHECK_EQ_U64(info.apic_ids[0], 6);
    CHECK(warned("RSDT has a null entry"));
    CHECK(warned("RSDT length is not a whole number of entries"));
}

/* ---- generic table checks ---- */

static void bad_checksum_skips_only_that_table(void)
{
    fw_reset();
    uint64_t madt = simple_madt(1);
    fw_ptr(madt)[44 + 3] = 2; /* apic id changed after sealing */
    uint64_t fadt = new_table("FACP", 1, 116);
    seal(fadt);
    uint64_t tables[] = {madt, make_hpet(0, 0xfed00000), fadt};
    CHECK_EQ_U64(parse(make_firmware(tables, 3)), ACPI_OK);
    CHECK(!info.have_madt);
    CHECK_EQ_U64(info.cpu_count, 0);
    CHECK(info.have_hpet);
    CHECK(info.have_fadt);
    CHECK_EQ_U64(warning_count, 1);
    CHECK_STR_EQ(warnings[0], "ACPI: MADT checksum mismatch, table ignored");
}

static void unknown_tables_are_not_checked(void)
{
    fw_reset();
    uint64_t ssdt = new_table("SSDT", 2, 64); /* checksum deliberately wrong */
    put8(ssdt, 9, 0x55);
    uint64_t huge = new_table("BGRT", 1, 36);
    put32(huge, 4, 0xffffffff);
    uint64_t tables[] = {ssdt, huge, simple_madt(1)};
    CHECK_EQ_U64(parse(make_firmware(tables, 3)), ACPI_OK);
    CHECK(info.have_madt);
    CHECK_EQ_U64(warning_count, 0);
}

static void tables_beyond_limit_refused(void)
{
    fw_reset();
    /* Header entirely at/above the limit, header straddling it, body
     * straddling it; the buffer ends at the limit so ASan catches any read
     * past it. */
    uint64_t straddle_body = alloc_at_end(44);
    fill_header(straddle_body, "APIC", 3, 44 + 8);
    uint64_t straddle_header = FW_LIMIT - 20;
    uint64_t tables[] = {FW_LIMIT, FW_LIMIT + 0x100000000ull, straddle_header,
                         straddle_body, 0xfffffffffffffff0ull, make_hpet(0, 0xfed00000)};
    uint64_t rsdp = make_firmware(tables, 6);
    CHECK_EQ_U64(parse(rsdp), ACPI_OK);
    CHECK(!info.have_madt);
    CHECK(info.have_hpet);
    CHECK(warned("XSDT entry lies beyond the mapped memory limit"));
    CHECK(warned("MADT extends beyond the mapped memory limit"));
}

static void table_below_buffer_end_but_above_limit(void)
{
    fw_reset();
    uint64_t hpet = FW_BASE + 0x100000; /* above everything make_firmware allocates */
    uint64_t tables[] = {hpet};
    uint64_t rsdp = make_firmware(tables, 1);
    assert(fw_next < hpet);
    fill_hpet(hpet, 0, 0xfed00000);
    /* limit cuts the HPET table in the middle: refused though readable */
    CHECK_EQ_U64(parse_limit(rsdp, hpet + 40), ACPI_OK);
    CHECK(!info.have_hpet);
    CHECK(warned("HPET extends beyond the mapped memory limit"));
    CHECK_EQ_U64(parse_limit(rsdp, hpet + 56), ACPI_OK);
    CHECK(info.have_hpet);
}

static void table_length_smaller_than_header(void)
{
    fw_reset();
    /* A 20-byte "FADT" whose checksum is right over those 20 bytes: only
     * the length check stops it. */
    uint64_t fadt = new_table("FACP", 1, 20);
    fix_checksum(fadt, 20, 9);
    uint64_t tables[] = {fadt};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK(!info.have_fadt);
    CHECK(warned("ACPI: FADT length smaller than its header, table ignored"));
}

static void table_length_huge(void)
{
    fw_reset();
    /* Fully inside memory with a valid checksum: only the sanity bound
     * refuses it. */
    uint64_t big = new_table("HPET", 1, MIB + 16);
    put_gas(big, 40, 0, 64, 0xfed00000);
    seal(big);
    uint64_t tables[] = {big};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK(!info.have_hpet);
    CHECK(warned("HPET length implausibly large"));

    fw_reset();
    uint64_t max = new_table("HPET", 1, MIB);
    put_gas(max, 40, 0, 64, 0xfed00000);
    seal(max);
    uint64_t tables2[] = {max};
    CHECK_EQ_U64(parse(make_firmware(tables2, 1)), ACPI_OK);
    CHECK(info.have_hpet); /* exactly at the bound is fine */

    fw_reset();
    uint64_t wild = new_table("APIC", 1, 44);
    put32(wild, 4, 0xffffffff);
    uint64_t tables3[] = {wild};
    CHECK_EQ_U64(parse(make_firmware(tables3, 1)), ACPI_OK);
    CHECK(!info.have_madt);
    CHECK(warned("MADT length implausibly large"));
}

static void duplicate_table_first_wins(void)
{
    fw_reset();
    uint64_t tables[] = {simple_madt(1), simple_madt(2)};
    CHECK_EQ_U64(parse(make_firmware(tables, 2)), ACPI_OK);
    CHECK_EQ_U64(info.cpu_count, 1);
    CHECK_EQ_U64(info.apic_ids[0], 1);
    CHECK(warned("MADT appears twice"));

    /* a broken first copy does not block a good second one */
    fw_ptr(tables[0])[9] ^= 1;
    CHECK_EQ_U64(parse(make_firmware(tables, 2)), ACPI_OK);
    CHECK_EQ_U64(info.apic_ids[0], 2);
}

static void null_warn_callback(void)
{
    fw_reset();
    uint64_t madt = simple_madt(1);
    fw_ptr(madt)[9] ^= 1;
    uint64_t tables[] = {madt, 0, FW_LIMIT};
    memset(&info, 0xa5, sizeof(info));
    CHECK_EQ_U64(acpi_parse(make_firmware(tables, 3), fw_offset(), FW_LIMIT, &info, NULL, NULL),
                 ACPI_OK);
    CHECK(!info.have_madt);
}

int main(void)
{
    check_suite = "acpi";
    RUN_TEST(rsdp_v0_uses_rsdt);
    RUN_TEST(rsdp_v0_needs_only_20_bytes);
    RUN_TEST(rsdp_v2_prefers_xsdt);
    RUN_TEST(rsdp_bad_signature);
    RUN_TEST(rsdp_bad_checksum);
    RUN_TEST(rsdp_bad_extended_checksum);
    RUN_TEST(rsdp_extended_checksum_covers_length);
    RUN_TEST(rsdp_v2_length_out_of_range);
    RUN_TEST(rsdp_v2_beyond_limit);
    RUN_TEST(rsdp_v2_length_field_beyond_limit);
    RUN_TEST(out_null_is_refused);
    RUN_TEST(xsdt_zero_falls_back_to_rsdt);
    RUN_TEST(xsdt_broken_falls_back_to_rsdt);
    RUN_TEST(both_roots_broken);
    RUN_TEST(root_entries_odd_and_null);
    RUN_TEST(bad_checksum_skips_only_that_table);
    RUN_TEST(unknown_tables_are_not_checked);
    RUN_TEST(tables_beyond_limit_refused);
    RUN_TEST(table_below_buffer_end_but_above_limit);
    RUN_TEST(table_length_smaller_than_header);
    RUN_TEST(table_length_huge);
    RUN_TEST(duplicate_table_first_wins);
    RUN_TEST(null_warn_callback);
    free(fw_mem);
    return check_finish();
}
