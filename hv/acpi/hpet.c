/* HPET table: where the (first) HPET register block lives. */
#include "hv/acpi/acpi_internal.h"

#define HPET_BASE_GAS_OFF 40
#define HPET_TABLE_MIN_LEN 56

void acpi_parse_hpet(const struct acpi_ctx *ctx, const struct acpi_table *t)
{
    if (t->len < HPET_TABLE_MIN_LEN) {
        acpi_warn(ctx, t->name, "too short, table ignored");
        return;
    }
    struct acpi_gas base = acpi_read_gas(t->bytes + HPET_BASE_GAS_OFF);
    /* The HPET is only ever memory-mapped; anything else is corruption. */
    if (base.space_id != ACPI_GAS_SYSTEM_MEMORY) {
        acpi_warn(ctx, t->name, "base address is not in system memory space, table ignored");
        return;
    }
    if (base.address == 0) {
        acpi_warn(ctx, t->name, "base address is zero, table ignored");
        return;
    }
    /* Its registers are 64 bits wide; a misaligned block is corruption. */
    if (base.address % 8 != 0) {
        acpi_warn(ctx, t->name, "base address is misaligned, table ignored");
        return;
    }
    ctx->out->have_hpet = true;
    ctx->out->hpet_phys = base.address;
}
