/* ACPI parser tests: the FADT (its revisions and lengths, the PM timer,
 * PM1 control, reset register, century and SMI fields) and every table
 * together (tests/unit/acpi_fixture.h builds the firmware). */
#include "tests/unit/acpi_fixture.h"

/* ---- FADT ---- */

static void fill_fadt_v1_fields(uint64_t fadt)
{
    put32(fadt, 40, 0x7fe00000);  /* DSDT */
    put16(fadt, 46, 9);           /* SCI_INT */
    put32(fadt, 48, 0xb2);        /* SMI_CMD */
    put8(fadt, 52, 0xf1);         /* ACPI_ENABLE */
    put8(fadt, 53, 0xf0);         /* ACPI_DISABLE */
    put32(fadt, 64, 0x604);       /* PM1a_CNT_BLK */
    put32(fadt, 76, 0x608);       /* PM_TMR_BLK */
    put8(fadt, 89, 2);            /* PM1_CNT_LEN */
    put8(fadt, 91, 4);            /* PM_TMR_LEN */
    put8(fadt, 108, 0x32);        /* CENTURY */
    put32(fadt, 112, 1u << 8);    /* TMR_VAL_EXT */
}

static void fadt_v1_short(void)
{
    fw_reset();
    /* At the end of memory: a read past its 116 bytes is an ASan error. */
    uint64_t fadt = alloc_at_end(116);
    fill_header(fadt, "FACP", 1, 116);
    fill_fadt_v1_fields(fadt);
    put16(fadt, 109, 0); /* reserved in ACPI 1.0: must not read as "no 8042" */
    put32(fadt, 112, (1u << 8) | (1u << 10) | (1u << 20));
    seal(fadt);
    uint64_t tables[] = {fadt};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK(info.have_fadt);
    CHECK_EQ_U64(info.fadt_revision, 1);
    CHECK_EQ_U64(info.fadt_length, 116);
    CHECK(!info.hw_reduced); /* bit 20 means nothing in revision 1 */
    CHECK(info.have_pm_timer);
    CHECK_EQ_U64(info.pm_timer_port, 0x608);
    CHECK(info.pm_timer_32bit);
    CHECK_EQ_U64(info.pm1a_cnt_port, 0x604);
    CHECK_EQ_U64(info.pm1b_cnt_port, 0);
    CHECK_EQ_U64(info.dsdt_phys, 0x7fe00000);
    CHECK_EQ_U64(info.sci_irq, 9);
    CHECK_EQ_U64(info.smi_cmd_port, 0xb2);
    CHECK_EQ_U64(info.acpi_enable_value, 0xf1);
    CHECK_EQ_U64(info.acpi_disable_value, 0xf0);
    CHECK_EQ_U64(info.century_cmos_index, 0x32);
    CHECK(!info.have_boot_arch);
    CHECK(!info.no_8042);
    CHECK(!info.have_reset_reg);
    CHECK(warned("FADT too short for its reset register"));
}

static void fadt_v1_ignores_bytes_past_length(void)
{
    fw_reset();
    /* Allocated large, with valid-looking extended fields past byte 116:
     * they must not be used since the table says it is 116 bytes long. */
    uint64_t fadt = new_table("FACP", 1, 276);
    fill_fadt_v1_fields(fadt);
    put_gas(fadt, 116, 1, 8, 0xcf9);
    put8(fadt, 128, 6);
    put64(fadt, 140, 0x12345678000ull);
    put_gas(fadt, 172, 1, 16, 0x1804);
    put_gas(fadt, 208, 1, 32, 0x1808);
    put32(fadt, 112, (1u << 8) | (1u << 10)); /* RESET_REG_SUP, reg past the end */
    put32(fadt, 4, 116);
    seal(fadt);
    uint64_t tables[] = {fadt};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK(info.have_fadt);
    CHECK_EQ_U64(info.pm_timer_port, 0x608);
    CHECK_EQ_U64(info.pm1a_cnt_port, 0x604);
    CHECK_EQ_U64(info.dsdt_phys, 0x7fe00000);
    CHECK(!info.have_reset_reg);
    CHECK(warned("FADT too short for its reset register"));
}

static void fadt_shorter_than_v1(void)
{
    fw_reset();
    uint64_t fadt = alloc_at_end(80); /* ends right after PM_TMR_BLK */
    fill_header(fadt, "FACP", 1, 80);
    put32(fadt, 64, 0x604);
    put32(fadt, 76, 0x608);
    seal(fadt);
    uint64_t tables[] = {fadt};
    CHECK_EQ_U64(parse(make_firmware(tables, 1)), ACPI_OK);
    CHECK(info.have_fadt);
    CHECK(!info.have_pm_timer); /* PM_TMR_LEN (byte 91) is absent */
    CHECK_EQ_U64(info.pm1a_cnt_port, 0); /* PM1_CNT_LEN (byte 89) is absent */
    CHECK_EQ_U64(info.century_cmos_index, 0);
    CHECK(warned("FADT shorter than the ACPI 1.0 layout"));
}

static uint64_t make_long_fadt(void)
{
    uint64_t fadt = new_table("FACP", 6, 276);
    fill_fadt_v1_fields(fadt);
    put16(fadt, 109, (1u << 0) | (1u << 2) | (1u << 5)); /* legacy, no VGA, no RTC; 8042 clear */
    put32(fadt, 112, (1u << 8) | (1u << 10));
    put_gas(fadt, 116, 1, 8, 0xcf9);
    put8(fadt, 128, 6);
    put64(fadt, 140, 0x12345678000ull);
    put_gas(fadt, 172, 1, 16, 0x1804);
    put_gas(fadt, 184, 1, 16, 0x1904);
    put_gas(fadt, 208, 1, 32, 0x1808);
    return fadt;
}

static int parse_fadt(uint64_t fadt)
{
    seal(fadt);
    uint64_t tables[] = {fadt};
    return parse(make_firmware(tables, 1));
}

static void fadt_long_prefers_extended_fields(void)
{
    fw_reset();
    uint64_t fadt = make_long_fadt();
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK(info.have_fadt);
    CHECK_EQ_U64(info.fadt_revision, 6);
    CHECK(info.have_pm_timer);
    CHECK_EQ_U64(info.pm_timer_port, 0x1808);
    CHECK(info.pm_timer_32bit);
    CHECK_EQ_U64(info.pm1a_cnt_port, 0x1804);
    CHECK_EQ_U64(info.pm1b_cnt_port, 0x1904);
    CHECK_EQ_U64(info.dsdt_phys, 0x12345678000ull);
    CHECK(info.have_reset_reg);
    CHECK_EQ_U64(info.reset_reg.space_id, ACPI_GAS_SYSTEM_IO);
    CHECK_EQ_U64(info.reset_reg.address, 0xcf9);
    CHECK_EQ_U64(info.reset_reg.bit_width, 8);
    CHECK_EQ_U64(info.reset_value, 6);
    CHECK(info.have_boot_arch);
    CHECK_EQ_U64(info.boot_arch_flags, 0x25);
    CHECK(info.no_8042);
    CHECK(info.no_vga);
    CHECK(info.no_cmos_rtc);
    CHECK(!info.no_msi);
    CHECK(!info.hw_reduced);
    CHECK_EQ_U64(warning_count, 0);

    put16(fadt, 109, 1u << 1); /* 8042 present */
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK(!info.no_8042);
    CHECK(!info.no_vga);
}

static void fadt_extended_block_fallbacks(void)
{
    fw_reset();
    uint64_t fadt = make_long_fadt();
    put_gas(fadt, 208, 0, 32, 0x1808); /* memory space, though the number fits a port */
    put_gas(fadt, 172, 1, 16, 0);          /* zero: legacy used, silently */
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK(info.have_pm_timer);
    CHECK_EQ_U64(info.pm_timer_port, 0x608);
    CHECK_EQ_U64(info.pm1a_cnt_port, 0x604);
    CHECK_EQ_U64(warning_count, 1);
    CHECK(warned("FADT X_PM_TMR_BLK is not a usable I/O port range"));

    put_gas(fadt, 208, 1, 32, 0xfffd); /* 4 ports would pass 0xffff */
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK_EQ_U64(info.pm_timer_port, 0x608);
    put_gas(fadt, 208, 1, 32, 0xfffc);
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK_EQ_U64(info.pm_timer_port, 0xfffc);

    put_gas(fadt, 208, 1, 32, 0);
    put32(fadt, 76, 0x10008); /* legacy port out of range too */
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK(!info.have_pm_timer);
    CHECK(warned("FADT PM_TMR_BLK is not a valid I/O port range"));
}

static void fadt_pm_tmr_len_wrong(void)
{
    fw_reset();
    uint64_t fadt = make_long_fadt();
    put8(fadt, 91, 3);
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK(info.have_fadt);
    CHECK(!info.have_pm_timer);
    CHECK_EQ_U64(info.pm_timer_port, 0);
    CHECK(warned("FADT PM_TMR_LEN is not 4, PM timer ignored"));
    CHECK_EQ_U64(info.pm1a_cnt_port, 0x1804); /* the rest still parses */

    /* No timer at all is legitimate and quiet. */
    put8(fadt, 91, 0);
    put32(fadt, 76, 0);
    put_gas(fadt, 208, 0, 0, 0);
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK(!info.have_pm_timer);
    CHECK_EQ_U64(warning_count, 0);

    /* Length 4 but no block anywhere. */
    put8(fadt, 91, 4);
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK(!info.have_pm_timer);
    CHECK(warned("no PM timer block"));
}

static void fadt_24bit_timer(void)
{
    fw_reset();
    uint64_t fadt = make_long_fadt();
    put32(fadt, 112, 0);
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK(info.have_pm_timer);
    CHECK(!info.pm_timer_32bit);
    CHECK(!info.have_reset_reg); /* RESET_REG_SUP clear */
}

static void fadt_hw_reduced(void)
{
    fw_reset();
    uint64_t fadt = make_long_fadt();
    put32(fadt, 112, (1u << 20) | (1u << 10));
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK(info.hw_reduced);
    CHECK(!info.have_pm_timer);
    CHECK_EQ_U64(info.pm1a_cnt_port, 0);
    CHECK_EQ_U64(info.smi_cmd_port, 0);
    CHECK(info.have_reset_reg); /* still valid on reduced hardware */

    put8(fadt, 8, 4); /* bit 20 is reserved before revision 5 */
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK(!info.hw_reduced);
    CHECK(info.have_pm_timer);
}

static void fadt_pm1_control_checks(void)
{
    fw_reset();
    uint64_t fadt = make_long_fadt();
    put8(fadt, 89, 1);
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK_EQ_U64(info.pm1a_cnt_port, 0);
    CHECK_EQ_U64(info.pm1b_cnt_port, 0);
    CHECK(warned("PM1_CNT_LEN below 2"));

    put8(fadt, 89, 2);
    put_gas(fadt, 172, 0, 16, 0xfed80000); /* memory space: legacy used */
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK_EQ_U64(info.pm1a_cnt_port, 0x604);
    CHECK(warned("X_PM1a_CNT_BLK is not a usable I/O port range"));
}

static void fadt_reset_register_checks(void)
{
    fw_reset();
    uint64_t fadt = make_long_fadt();
    put_gas(fadt, 116, 3, 8, 0xcf9); /* embedded controller space */
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK(!info.have_reset_reg);
    CHECK(warned("reset register is unusable"));

    put_gas(fadt, 116, 1, 8, 0x10000);
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK(!info.have_reset_reg);

    put_gas(fadt, 116, 0, 8, 0);
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK(!info.have_reset_reg);

    put_gas(fadt, 116, 2, 8, 0x0000000600000064ull); /* PCI dev 0 fn 6? any */
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK(info.have_reset_reg);
    CHECK_EQ_U64(info.reset_reg.space_id, ACPI_GAS_PCI_CONFIG);
}

static void fadt_century_and_smi_checks(void)
{
    fw_reset();
    uint64_t fadt = make_long_fadt();
    put8(fadt, 108, 0x85);
    put32(fadt, 48, 0x12345);
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK_EQ_U64(info.century_cmos_index, 0);
    CHECK_EQ_U64(info.smi_cmd_port, 0);
    CHECK(warned("CENTURY is not a CMOS RAM index"));
    CHECK(warned("SMI_CMD is not an I/O port"));

    put8(fadt, 108, 0x09); /* the year register itself */
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK_EQ_U64(info.century_cmos_index, 0);

    put8(fadt, 108, 0x7f);
    CHECK_EQ_U64(parse_fadt(fadt), ACPI_OK);
    CHECK_EQ_U64(info.century_cmos_index, 0x7f);
}

static void everything_together(void)
{
    fw_reset();
    struct madt m = {0};
    madt_lapic(&m, 0, 1);
    madt_lapic(&m, 1, 1);
    uint64_t tables[] = {make_long_fadt(), make_madt(&m, 4, 0xfee00000, 1),
                         make_hpet(0, 0xfed00000)};
    seal(tables[0]);
    CHECK_EQ_U64(parse(make_firmware(tables, 3)), ACPI_OK);
    CHECK(info.have_fadt && info.have_madt && info.have_hpet);
    CHECK_EQ_U64(info.cpu_count, 2);
    CHECK_EQ_U64(info.pm_timer_port, 0x1808);
    CHECK_EQ_U64(warning_count, 0);
}

int main(void)
{
    check_suite = "acpi_fadt";
    RUN_TEST(fadt_v1_short);
    RUN_TEST(fadt_v1_ignores_bytes_past_length);
    RUN_TEST(fadt_shorter_than_v1);
    RUN_TEST(fadt_long_prefers_extended_fields);
    RUN_TEST(fadt_extended_block_fallbacks);
    RUN_TEST(fadt_pm_tmr_len_wrong);
    RUN_TEST(fadt_24bit_timer);
    RUN_TEST(fadt_hw_reduced);
    RUN_TEST(fadt_pm1_control_checks);
    RUN_TEST(fadt_reset_register_checks);
    RUN_TEST(fadt_century_and_smi_checks);
    RUN_TEST(everything_together);
    free(fw_mem);
    return check_finish();
}
