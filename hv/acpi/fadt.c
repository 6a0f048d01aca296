/* FADT ("FACP"): PM timer, PM1 control blocks, reset register and the boot
 * architecture flags. Old FADTs are shorter than the current layout: every
 * field is read only if it lies inside the table's length, else it counts as
 * absent (zero). */
#include "hv/acpi/acpi_internal.h"

#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_SMI_CMD 48
#define FADT_ACPI_ENABLE 52
#define FADT_ACPI_DISABLE 53
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM1B_CNT_BLK 68
#define FADT_PM_TMR_BLK 76
#define FADT_PM1_CNT_LEN 89
#define FADT_PM_TMR_LEN 91
#define FADT_CENTURY 108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_X_DSDT 140
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM1B_CNT_BLK 184
#define FADT_X_PM_TMR_BLK 208

#define FADT_V1_LEN 116 /* ACPI 1.0 layout ends after FLAGS */
#define GAS_LEN 12

#define FLAG_TMR_VAL_EXT (1u << 8)
#define FLAG_RESET_REG_SUP (1u << 10)
#define FLAG_HW_REDUCED_ACPI (1u << 20)

#define BOOT_ARCH_8042 (1u << 1)
#define BOOT_ARCH_VGA_NOT_PRESENT (1u << 2)
#define BOOT_ARCH_MSI_NOT_SUPPORTED (1u << 3)
#define BOOT_ARCH_CMOS_RTC_NOT_PRESENT (1u << 5)

/* IAPC_BOOT_ARCH exists from revision 3 (ACPI 2.0), HW_REDUCED_ACPI from
 * revision 5 (ACPI 5.0); before that the bits are reserved. */
#define FADT_REV_BOOT_ARCH 3
#define FADT_REV_HW_REDUCED 5

#define PM_TMR_LEN_VALID 4
#define PM1_CNT_LEN_MIN 2

/* The first CMOS index after the clock registers; indexes >= 0x80 would set
 * the NMI-disable bit of port 0x70. */
#define CMOS_FIRST_RAM_INDEX 0x0e
#define CMOS_INDEX_LIMIT 0x80

static uint8_t field8(const struct acpi_table *t, size_t off)
{
    return acpi_table_has(t, off, 1) ? t->bytes[off] : 0;
}

static uint16_t field16(const struct acpi_table *t, size_t off)
{
    return acpi_table_has(t, off, 2) ? acpi_le16(t->bytes + off) : 0;
}

static uint32_t field32(const struct acpi_table *t, size_t off)
{
    return acpi_table_has(t, off, 4) ? acpi_le32(t->bytes + off) : 0;
}

static uint64_t field64(const struct acpi_table *t, size_t off)
{
    return acpi_table_has(t, off, 8) ? acpi_le64(t->bytes + off) : 0;
}

/* A zeroed GAS (address 0) when the table is too short to hold it. */
static struct acpi_gas field_gas(const struct acpi_table *t, size_t off)
{
    if (acpi_table_has(t, off, GAS_LEN))
        return acpi_read_gas(t->bytes + off);
    struct acpi_gas none = {0};
    return none;
}

/* A fixed-hardware register block given both as a 32-bit legacy field and an
 * extended GAS; the GAS wins when it is present and usable. */
struct io_block {
    size_t legacy_off, x_off;
    uint32_t ports; /* how many consecutive ports the block spans */
    const char *legacy_what, *x_what;
};

static bool port_range_ok(uint64_t port, uint32_t ports)
{
    return port != 0 && port <= 0x10000u - ports;
}

static uint16_t io_block_port(const struct acpi_ctx *ctx, const struct acpi_table *t,
                              const struct io_block *b)
{
    struct acpi_gas x = field_gas(t, b->x_off);
    if (x.address != 0) {
        if (x.space_id == ACPI_GAS_SYSTEM_IO && port_range_ok(x.address, b->ports))
            return (uint16_t)x.address;
        acpi_warn(ctx, b->x_what, "is not a usable I/O port range, legacy field used");
    }
    uint32_t legacy = field32(t, b->legacy_off);
    if (legacy == 0)
        return 0;
    if (!port_range_ok(legacy, b->ports)) {
        acpi_warn(ctx, b->legacy_what, "is not a valid I/O port range, ignored");
        return 0;
    }
    return (uint16_t)legacy;
}

static const struct io_block pm_timer_block = {
    FADT_PM_TMR_BLK, FADT_X_PM_TMR_BLK, 4, "FADT PM_TMR_BLK", "FADT X_PM_TMR_BLK",
};
static const struct io_block pm1a_cnt_block = {
    FADT_PM1A_CNT_BLK, FADT_X_PM1A_CNT_BLK, 2, "FADT PM1a_CNT_BLK", "FADT X_PM1a_CNT_BLK",
};
static const struct io_block pm1b_cnt_block = {
    FADT_PM1B_CNT_BLK, FADT_X_PM1B_CNT_BLK, 2, "FADT PM1b_CNT_BLK", "FADT X_PM1b_CNT_BLK",
};

static void parse_pm_timer(const struct acpi_ctx *ctx, const struct acpi_table *t, uint32_t flags)
{
    struct acpi_info *out = ctx->out;
    uint8_t len = field8(t, FADT_PM_TMR_LEN);
    if (len != PM_TMR_LEN_VALID) {
        /* Zero everywhere is the normal "no PM timer"; anything else is a
         * table we cannot trust about the timer. */
        bool block_given = field32(t, FADT_PM_TMR_BLK) != 0 ||
                           field_gas(t, FADT_X_PM_TMR_BLK).address != 0;
        if (len != 0 || block_given)
            acpi_warn(ctx, "FADT", "PM_TMR_LEN is not 4, PM timer ignored");
        return;
    }
    uint16_t port = io_block_port(ctx, t, &pm_timer_block);
    if (port == 0) {
        acpi_warn(ctx, "FADT", "PM_TMR_LEN is 4 but no PM timer block is given");
        return;
    }
    out->have_pm_timer = true;
    out->pm_timer_port = port;
    out->pm_timer_32bit = flags & FLAG_TMR_VAL_EXT;
}

static void parse_pm1_control(const struct acpi_ctx *ctx, const struct acpi_table *t)
{
    struct acpi_info *out = ctx->out;
    uint16_t a = io_block_port(ctx, t, &pm1a_cnt_block);
    uint16_t b = io_block_port(ctx, t, &pm1b_cnt_block);
    if (a == 0 && b == 0)
        return;
    /* SLP_TYP/SLP_EN live in the low 16 bits: a shorter block is bogus. */
    if (field8(t, FADT_PM1_CNT_LEN) < PM1_CNT_LEN_MIN) {
        acpi_warn(ctx, "FADT", "PM1_CNT_LEN below 2, PM1 control ignored");
        return;
    }
    out->pm1a_cnt_port = a;
    out->pm1b_cnt_port = b;
}

static void parse_reset_register(const struct acpi_ctx *ctx, const struct acpi_table *t,
                                 uint32_t flags)
{
    struct acpi_info *out = ctx->out;
    if (!(flags & FLAG_RESET_REG_SUP))
        return;
    if (!acpi_table_has(t, FADT_RESET_VALUE, 1)) {
        acpi_warn(ctx, "FADT", "too short for its reset register");
        return;
    }
    struct acpi_gas reg = field_gas(t, FADT_RESET_REG);
    bool space_ok = reg.space_id == ACPI_GAS_SYSTEM_MEMORY ||
                    reg.space_id == ACPI_GAS_PCI_CONFIG ||
                    (reg.space_id == ACPI_GAS_SYSTEM_IO && reg.address <= 0xffffu);
    if (reg.address == 0 || !space_ok) {
        acpi_warn(ctx, "FADT", "reset register is unusable, ignored");
        return;
    }
    out->have_reset_reg = true;
    out->reset_reg = reg;
    out->reset_value = field8(t, FADT_RESET_VALUE);
}

static void parse_boot_flags(const struct acpi_ctx *ctx, const struct acpi_table *t)
{
    struct acpi_info *out = ctx->out;
    uint8_t century = field8(t, FADT_CENTURY);
    if (century != 0 && (century < CMOS_FIRST_RAM_INDEX || century >= CMOS_INDEX_LIMIT)) {
        acpi_warn(ctx, "FADT", "CENTURY is not a CMOS RAM index, ignored");
        century = 0;
    }
    out->century_cmos_index = century;

    if (out->fadt_revision < FADT_REV_BOOT_ARCH || !acpi_table_has(t, FADT_IAPC_BOOT_ARCH, 2))
        return;
    uint16_t arch = field16(t, FADT_IAPC_BOOT_ARCH);
    out->have_boot_arch = true;
    out->boot_arch_flags = arch;
    out->no_8042 = !(arch & BOOT_ARCH_8042);
    out->no_vga = arch & BOOT_ARCH_VGA_NOT_PRESENT;
    out->no_msi = arch & BOOT_ARCH_MSI_NOT_SUPPORTED;
    out->no_cmos_rtc = arch & BOOT_ARCH_CMOS_RTC_NOT_PRESENT;
}

void acpi_parse_fadt(const struct acpi_ctx *ctx, const struct acpi_table *t)
{
    struct acpi_info *out = ctx->out;
    if (t->len < FADT_V1_LEN)
        acpi_warn(ctx, t->name, "shorter than the ACPI 1.0 layout, missing fields taken as absent");
    out->have_fadt = true;
    out->fadt_revision = t->bytes[8];
    out->fadt_length = t->len;

    uint32_t flags = field32(t, FADT_FLAGS);
    out->hw_reduced = out->fadt_revision >= FADT_REV_HW_REDUCED && (flags & FLAG_HW_REDUCED_ACPI);

    uint64_t x_dsdt = field64(t, FADT_X_DSDT);
    out->dsdt_phys = x_dsdt != 0 ? x_dsdt : field32(t, FADT_DSDT);

    parse_reset_register(ctx, t, flags);
    parse_boot_flags(ctx, t);
    /* Hardware-reduced platforms have no fixed PM hardware: whatever the
     * legacy fields hold is to be ignored. */
    if (out->hw_reduced)
        return;
    out->sci_irq = field16(t, FADT_SCI_INT);
    uint32_t smi_cmd = field32(t, FADT_SMI_CMD);
    if (smi_cmd > 0xffffu) {
        acpi_warn(ctx, "FADT", "SMI_CMD is not an I/O port, ignored");
        smi_cmd = 0;
    }
    out->smi_cmd_port = (uint16_t)smi_cmd;
    out->acpi_enable_value = field8(t, FADT_ACPI_ENABLE);
    out->acpi_disable_value = field8(t, FADT_ACPI_DISABLE);
    parse_pm_timer(ctx, t, flags);
    parse_pm1_control(ctx, t);
}
