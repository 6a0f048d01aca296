/* ACPI parser tests: the MADT (CPUs, their kinds and ids, the local APIC
 * address) and the HPET table (tests/unit/acpi_fixture.h builds the
 * firmware). */
#include "tests/unit/acpi_fixture.h"

/* ---- MADT ---- */

static void madt_cpu_kinds(void)
{
    fw_reset();
    struct madt m = {0};
    madt_lapic(&m, 0, 1);          /* enabled */
    madt_lapic(&m, 1, 0);          /* disabled, not online-capable */
    madt_lapic(&m, 2, 2);          /* online-capable */
    madt_x2apic(&m, 300, 1);       /* enabled x2APIC */
    madt_x2apic(&m, 301, 0);       /* disabled */
    madt_x2apic(&m, 0x10000, 2);   /* online-capable x2APIC */
    uint64_t tables[] = {make_madt(&m, 5, 0xfee00000, 1)};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK(info.have_madt);
    CHECK_EQ_U64(info.lapic_phys, 0xfee00000);
    CHECK(info.pcat_compat);
    CHECK_EQ_U64(info.cpu_count, 4);
    CHECK_EQ_U64(info.apic_ids[0], 0);
    CHECK_EQ_U64(info.apic_ids[1], 2);
    CHECK_EQ_U64(info.apic_ids[2], 300);
    CHECK_EQ_U64(info.apic_ids[3], 0x10000);
    CHECK(info.cpu_enabled[0]);
    CHECK(!info.cpu_enabled[1]);
    CHECK(info.cpu_enabled[2]);
    CHECK(!info.cpu_enabled[3]);
    CHECK_EQ_U64(info.cpus_ignored, 2);
    CHECK_EQ_U64(warning_count, 0);
}

static void madt_online_capable_needs_revision_5(void)
{
    fw_reset();
    struct madt m = {0};
    madt_lapic(&m, 0, 1);
    madt_lapic(&m, 1, 2); /* bit 1 is reserved before revision 5 */
    uint64_t tables[] = {make_madt(&m, 4, 0xfee00000, 0)};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK(!info.pcat_compat);
    CHECK_EQ_U64(info.cpu_count, 1);
    CHECK_EQ_U64(info.cpus_ignored, 1);
}

static void madt_duplicate_ids_counted_once(void)
{
    fw_reset();
    struct madt m = {0};
    madt_lapic(&m, 5, 2);   /* online-capable first ... */
    madt_x2apic(&m, 5, 1);  /* ... then the same CPU, enabled */
    madt_lapic(&m, 3, 1);
    madt_lapic(&m, 3, 1);
    madt_x2apic(&m, 3, 1);
    uint64_t tables[] = {make_madt(&m, 5, 0xfee00000, 0)};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK_EQ_U64(info.cpu_count, 2);
    CHECK_EQ_U64(info.apic_ids[0], 5);
    CHECK(info.cpu_enabled[0]);
    CHECK_EQ_U64(info.apic_ids[1], 3);
    CHECK_EQ_U64(info.cpus_ignored, 0);
}

static void madt_invalid_apic_ids(void)
{
    fw_reset();
    struct madt m = {0};
    madt_lapic(&m, 0xff, 0);          /* firmware placeholder: silent */
    madt_lapic(&m, 0xff, 1);          /* enabled broadcast ID: warned */
    madt_x2apic(&m, 0xffffffff, 1);
    madt_lapic(&m, 0xfe, 1);          /* highest valid xAPIC ID */
    uint64_t tables[] = {make_madt(&m, 3, 0xfee00000, 0)};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK_EQ_U64(info.cpu_count, 1);
    CHECK_EQ_U64(info.apic_ids[0], 0xfe);
    CHECK_EQ_U64(info.cpus_ignored, 3);
    CHECK_EQ_U64(warning_count, 2);
    CHECK(warned("invalid APIC ID"));
}

static void madt_lapic_address_override(void)
{
    fw_reset();
    struct madt m = {0};
    madt_lapic(&m, 0, 1);
    madt_override(&m, 0x123456789000ull);
    uint64_t tables[] = {make_madt(&m, 3, 0xfee00000, 0)};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK_EQ_U64(info.lapic_phys, 0x123456789000ull);

    fw_reset();
    struct madt z = {0};
    madt_override(&z, 0);
    uint8_t short_override[10] = {5, 10, 0, 0, 1, 2, 3, 4, 5, 6};
    madt_raw(&z, short_override, sizeof(short_override));
    madt_lapic(&z, 8, 1); /* the walk continues after a short entry */
    uint64_t tables2[] = {make_madt(&z, 3, 0xfee00000, 0)};
    CHECK_EQ_U64(parse(make_firmware(tables2, 1)), ACPI_OK);
    CHECK_EQ_U64(info.lapic_phys, 0xfee00000);
    CHECK(warned("override is zero"));
    CHECK(warned("override entry too short"));
    CHECK_EQ_U64(info.cpu_count, 1);
    CHECK_EQ_U64(info.apic_ids[0], 8);
}

static void madt_short_cpu_entries_skipped(void)
{
    fw_reset();
    struct madt m = {0};
    uint8_t short_lapic[6] = {0, 6, 1, 1, 1, 0};
    uint8_t short_x2apic[12] = {9, 12, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0};
    madt_raw(&m, short_lapic, sizeof(short_lapic));
    madt_raw(&m, short_x2apic, sizeof(short_x2apic));
    madt_lapic(&m, 2, 1);
    uint8_t ioapic[12] = {1, 12, 0, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0};
    madt_raw(&m, ioapic, sizeof(ioapic)); /* unknown to us: skipped quietly */
    madt_x2apic(&m, 9, 1);
    uint64_t tables[] = {make_madt(&m, 3, 0xfee00000, 0)};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK_EQ_U64(info.cpu_count, 2);
    CHECK_EQ_U64(info.apic_ids[0], 2);
    CHECK_EQ_U64(info.apic_ids[1], 9);
    CHECK_EQ_U64(warning_count, 2);
}

static void madt_zero_length_entry_stops_walk(void)
{
    fw_reset();
    struct madt m = {0};
    madt_lapic(&m, 0, 1);
    uint8_t zero[8] = {0, 0, 1, 1, 1, 0, 0, 0};
    madt_raw(&m, zero, sizeof(zero));
    madt_lapic(&m, 1, 1);
    uint64_t tables[] = {make_madt(&m, 3, 0xfee00000, 0)};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK(info.have_madt);
    CHECK_EQ_U64(info.cpu_count, 1);
    CHECK(warned("MADT has a zero-length entry"));

    fw_reset();
    struct madt one = {0};
    uint8_t len1[8] = {0, 1, 1, 1, 1, 0, 0, 0};
    madt_raw(&one, len1, sizeof(len1));
    uint64_t tables2[] = {make_madt(&one, 3, 0xfee00000, 0)};
    CHECK_EQ_U64(parse(make_firmware(tables2, 1)), ACPI_OK);
    CHECK_EQ_U64(info.cpu_count, 0);
    CHECK(warned("entry shorter than its header"));
}

static void madt_overrunning_entry(void)
{
    fw_reset();
    struct madt m = {0};
    madt_lapic(&m, 0, 1);
    /* An x2APIC entry claiming 16 bytes with only 8 left, at the very end of
     * memory: reading it would be an ASan error. */
    uint8_t cut[8] = {9, 16, 0, 0, 5, 0, 0, 0};
    madt_raw(&m, cut, sizeof(cut));
    uint64_t madt = alloc_at_end(44 + m.len);
    fill_madt(madt, &m, 3, 0xfee00000, 0);
    uint64_t tables[] = {madt};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK(info.have_madt);
    CHECK_EQ_U64(info.cpu_count, 1);
    CHECK(warned("MADT entry overruns the table"));

    fw_reset();
    struct madt t = {0};
    madt_lapic(&t, 0, 1);
    uint8_t lone = 0;
    madt_raw(&t, &lone, 1); /* one stray byte: not even a type + length */
    uint64_t madt2 = alloc_at_end(44 + t.len);
    fill_madt(madt2, &t, 3, 0xfee00000, 0);
    uint64_t tables2[] = {madt2};
    CHECK_EQ_U64(parse(make_firmware(tables2, 1)), ACPI_OK);
    CHECK_EQ_U64(info.cpu_count, 1);
    CHECK(warned("MADT ends in a truncated entry"));
}

static void madt_too_short(void)
{
    fw_reset();
    uint64_t madt = new_table("APIC", 3, 40);
    seal(madt);
    uint64_t tables[] = {madt};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK(!info.have_madt);
    CHECK(warned("MADT too short"));
}

static void madt_too_many_cpus(void)
{
    fw_reset();
    struct madt m = {0};
    for (uint32_t i = 0; i < ACPI_MAX_CPUS + 6; i++)
        madt_x2apic(&m, i * 2, 1);
    madt_x2apic(&m, 0, 1); /* a duplicate when full is not "ignored" */
    madt_x2apic(&m, 9999, 0);
    uint64_t tables[] = {make_madt(&m, 3, 0xfee00000, 0)};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK_EQ_U64(info.cpu_count, ACPI_MAX_CPUS);
    CHECK_EQ_U64(info.apic_ids[ACPI_MAX_CPUS - 1], (ACPI_MAX_CPUS - 1) * 2);
    CHECK_EQ_U64(info.cpus_ignored, 7);
    CHECK_EQ_U64(warning_count, 1); /* one warning, not one per CPU */
    CHECK(warned("more CPUs than ACPI_MAX_CPUS"));
}

static void madt_full_prefers_enabled_cpus(void)
{
    fw_reset();
    struct madt m = {0};
    madt_x2apic(&m, 1000, 1);
    for (uint32_t i = 1; i < ACPI_MAX_CPUS; i++)
        madt_x2apic(&m, i, 2); /* hot-plug slots fill the table */
    madt_x2apic(&m, 2000, 1);
    madt_x2apic(&m, 2001, 1);
    uint64_t tables[] = {make_madt(&m, 5, 0xfee00000, 0)};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK_EQ_U64(info.cpu_count, ACPI_MAX_CPUS);
    CHECK_EQ_U64(info.cpus_ignored, 2);
    CHECK_EQ_U64(info.apic_ids[0], 1000);
    CHECK_EQ_U64(info.apic_ids[1], 2000);
    CHECK(info.cpu_enabled[1]);
    CHECK_EQ_U64(info.apic_ids[2], 2001);
    CHECK(info.cpu_enabled[2]);
    CHECK_EQ_U64(info.apic_ids[3], 3);
    CHECK(!info.cpu_enabled[3]);
}

/* ---- HPET ---- */

static void hpet_variants(void)
{
    fw_reset();
    uint64_t tables[] = {make_hpet(0, 0xfed00000)};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK(info.have_hpet);
    CHECK_EQ_U64(info.hpet_phys, 0xfed00000);

    uint64_t io[] = {make_hpet(1, 0xfed00000)};
    CHECK_EQ_U64(parse(make_firmware(io, 1)), ACPI_OK);
    CHECK(!info.have_hpet);
    CHECK(warned("HPET base address is not in system memory space"));

    uint64_t zero[] = {make_hpet(0, 0)};
    CHECK_EQ_U64(parse(make_firmware(zero, 1)), ACPI_OK);
    CHECK(!info.have_hpet);
    CHECK(warned("HPET base address is zero"));

    uint64_t odd[] = {make_hpet(0, 0xfed00004)};
    CHECK_EQ_U64(parse(make_firmware(odd, 1)), ACPI_OK);
    CHECK(!info.have_hpet);
    CHECK(warned("misaligned"));

    /* holds a good base GAS but ends before the fixed fields after it */
    uint64_t short_hpet = new_table("HPET", 1, 52);
    put_gas(short_hpet, 40, 0, 64, 0xfed00000);
    seal(short_hpet);
    uint64_t cut[] = {short_hpet};
    CHECK_EQ_U64(parse(make_firmware(cut, 1)), ACPI_OK);
    CHECK(!info.have_hpet);
    CHECK(warned("HPET too short"));

    /* a broken HPET table does not hide a later good one */
    uint64_t two[] = {make_hpet(1, 0xfed00000), make_hpet(0, 0xfed01000)};
    CHECK_EQ_U64(parse(make_firmware(two, 2)), ACPI_OK);
    CHECK(info.have_hpet);
    CHECK_EQ_U64(info.hpet_phys, 0xfed01000);
}

int main(void)
{
    check_suite = "acpi_madt";
    RUN_TEST(madt_cpu_kinds);
    RUN_TEST(madt_online_capable_needs_revision_5);
    RUN_TEST(madt_duplicate_ids_counted_once);
    RUN_TEST(madt_invalid_apic_ids);
    RUN_TEST(madt_lapic_address_override);
    RUN_TEST(madt_short_cpu_entries_skipped);
    RUN_TEST(madt_zero_length_entry_stops_walk);
    RUN_TEST(madt_overrunning_entry);
    RUN_TEST(madt_too_short);
    RUN_TEST(madt_too_many_cpus);
    RUN_TEST(madt_full_prefers_enabled_cpus);
    RUN_TEST(hpet_variants);
    free(fw_mem);
    return check_finish();
}
