/* Bounded access to firmware memory and the checks every ACPI table passes
 * before any of its fields is believed. */
#include "hv/acpi/acpi_internal.h"

bool acpi_phys_range_ok(const struct acpi_ctx *ctx, uint64_t phys, uint64_t len)
{
    return phys < ctx->phys_limit && len <= ctx->phys_limit - phys;
}

const uint8_t *acpi_phys_ptr(const struct acpi_ctx *ctx, uint64_t phys)
{
    /* Unsigned wrap-around is intended: the direct map may sit "below" 0. */
    return (const uint8_t *)(uintptr_t)(phys + ctx->direct_map_offset);
}

uint8_t acpi_checksum(const uint8_t *bytes, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + bytes[i]);
    return sum;
}

uint16_t acpi_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

uint32_t acpi_le32(const uint8_t *p)
{
    return (uint32_t)acpi_le16(p) | (uint32_t)acpi_le16(p + 2) << 16;
}

uint64_t acpi_le64(const uint8_t *p)
{
    return (uint64_t)acpi_le32(p) | (uint64_t)acpi_le32(p + 4) << 32;
}

struct acpi_gas acpi_read_gas(const uint8_t *p)
{
    struct acpi_gas gas;
    gas.space_id = p[0];
    gas.bit_width = p[1];
    gas.bit_offset = p[2];
    gas.access_size = p[3];
    gas.address = acpi_le64(p + 4);
    return gas;
}

bool acpi_table_has(const struct acpi_table *t, size_t off, size_t size)
{
    return off <= t->len && size <= t->len - off;
}

static size_t append(char *buf, size_t pos, size_t cap, const char *s)
{
    while (*s && pos + 1 < cap)
        buf[pos++] = *s++;
    buf[pos] = '\0';
    return pos;
}

void acpi_warn(const struct acpi_ctx *ctx, const char *what, const char *reason)
{
    if (!ctx->warn)
        return;
    char msg[128];
    size_t pos = append(msg, 0, sizeof(msg), "ACPI: ");
    pos = append(msg, pos, sizeof(msg), what);
    pos = append(msg, pos, sizeof(msg), " ");
    append(msg, pos, sizeof(msg), reason);
    ctx->warn(ctx->warn_arg, msg);
}

bool acpi_sig_equals(const uint8_t sig[4], const char *expected)
{
    for (int i = 0; i < 4; i++) {
        if (sig[i] != (uint8_t)expected[i])
            return false;
    }
    return true;
}

const char *acpi_sig_name(const uint8_t sig[4])
{
    static const struct {
        char sig[5];
        const char *name;
    } names[] = {
        {"APIC", "MADT"}, {"FACP", "FADT"}, {"HPET", "HPET"},
        {"RSDT", "RSDT"}, {"XSDT", "XSDT"}, {"DSDT", "DSDT"},
        {"SSDT", "SSDT"}, {"FACS", "FACS"}, {"MCFG", "MCFG"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (acpi_sig_equals(sig, names[i].sig))
            return names[i].name;
    }
    return NULL;
}

bool acpi_load_table(const struct acpi_ctx *ctx, uint64_t phys, const char *expected_sig,
                     struct acpi_table *table)
{
    const char *name = acpi_sig_name((const uint8_t *)expected_sig);
    if (!name)
        name = "table";

    if (phys == 0) {
        acpi_warn(ctx, name, "address is zero, table ignored");
        return false;
    }
    if (!acpi_phys_range_ok(ctx, phys, ACPI_HEADER_LEN)) {
        acpi_warn(ctx, name, "lies beyond the mapped memory limit, table ignored");
        return false;
    }
    const uint8_t *bytes = acpi_phys_ptr(ctx, phys);
    if (!acpi_sig_equals(bytes, expected_sig)) {
        acpi_warn(ctx, name, "signature mismatch, table ignored");
        return false;
    }
    uint32_t len = acpi_le32(bytes + 4);
    if (len < ACPI_HEADER_LEN) {
        acpi_warn(ctx, name, "length smaller than its header, table ignored");
        return false;
    }
    if (len > ACPI_TABLE_MAX_LEN) {
        acpi_warn(ctx, name, "length implausibly large, table ignored");
        return false;
    }
    if (!acpi_phys_range_ok(ctx, phys, len)) {
        acpi_warn(ctx, name, "extends beyond the mapped memory limit, table ignored");
        return false;
    }
    if (acpi_checksum(bytes, len) != 0) {
        acpi_warn(ctx, name, "checksum mismatch, table ignored");
        return false;
    }
    table->bytes = bytes;
    table->len = len;
    table->name = name;
    return true;
}
