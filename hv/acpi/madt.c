/* MADT ("APIC"): local APIC address, legacy PIC presence and the list of
 * CPUs (local APIC and x2APIC entries). */
#include "hv/acpi/acpi_internal.h"

#define MADT_LAPIC_ADDR_OFF 36
#define MADT_FLAGS_OFF 40
#define MADT_ENTRIES_OFF 44
#define MADT_PCAT_COMPAT (1u << 0)

#define MADT_TYPE_LAPIC 0
#define MADT_TYPE_LAPIC_OVERRIDE 5
#define MADT_TYPE_X2APIC 9

#define MADT_LAPIC_LEN 8
#define MADT_LAPIC_OVERRIDE_LEN 12
#define MADT_X2APIC_LEN 16

#define CPU_ENABLED (1u << 0)
#define CPU_ONLINE_CAPABLE (1u << 1)
/* The Online Capable bit exists from MADT revision 5 (ACPI 6.3) on; in older
 * tables it is reserved and its value means nothing. */
#define MADT_REV_ONLINE_CAPABLE 5

#define LAPIC_ID_INVALID 0xffu
#define X2APIC_ID_INVALID 0xffffffffu

struct madt_walk {
    const struct acpi_ctx *ctx;
    bool online_capable_defined;
    bool overflowed;
};

/* A CPU that runs now is worth more than a slot for a CPU that might be
 * hot-added: the first such slot, if any, goes to apic_id. */
static void take_hotplug_slot(struct acpi_info *out, uint32_t apic_id)
{
    for (uint32_t i = 0; i < out->cpu_count; i++) {
        if (!out->cpu_enabled[i]) {
            out->apic_ids[i] = apic_id;
            out->cpu_enabled[i] = true;
            return;
        }
    }
}

static void add_cpu(struct madt_walk *walk, uint32_t apic_id, uint32_t flags, uint32_t invalid_id)
{
    struct acpi_info *out = walk->ctx->out;
    bool enabled = flags & CPU_ENABLED;
    bool online_capable = walk->online_capable_defined && (flags & CPU_ONLINE_CAPABLE);
    if (!enabled && !online_capable) {
        out->cpus_ignored++;
        return;
    }
    if (apic_id == invalid_id) {
        acpi_warn(walk->ctx, "MADT", "lists a usable CPU with the invalid APIC ID, entry ignored");
        out->cpus_ignored++;
        return;
    }
    /* Firmware may describe one CPU by both a local APIC and an x2APIC
     * entry: keep one, enabled if either says so. */
    for (uint32_t i = 0; i < out->cpu_count; i++) {
        if (out->apic_ids[i] == apic_id) {
            if (enabled)
                out->cpu_enabled[i] = true;
            return;
        }
    }
    if (out->cpu_count < ACPI_MAX_CPUS) {
        out->apic_ids[out->cpu_count] = apic_id;
        out->cpu_enabled[out->cpu_count] = enabled;
        out->cpu_count++;
        return;
    }
    if (!walk->overflowed) {
        acpi_warn(walk->ctx, "MADT", "lists more CPUs than ACPI_MAX_CPUS, the rest ignored");
        walk->overflowed = true;
    }
    /* Either the new CPU or an evicted hot-plug slot is dropped. */
    if (enabled)
        take_hotplug_slot(out, apic_id);
    out->cpus_ignored++;
}

static void parse_entry(struct madt_walk *walk, const uint8_t *entry, uint8_t len)
{
    struct acpi_info *out = walk->ctx->out;
    switch (entry[0]) {
    case MADT_TYPE_LAPIC:
        if (len < MADT_LAPIC_LEN) {
            acpi_warn(walk->ctx, "MADT", "local APIC entry too short, skipped");
            return;
        }
        add_cpu(walk, entry[3], acpi_le32(entry + 4), LAPIC_ID_INVALID);
        return;
    case MADT_TYPE_X2APIC:
        if (len < MADT_X2APIC_LEN) {
            acpi_warn(walk->ctx, "MADT", "x2APIC entry too short, skipped");
            return;
        }
        add_cpu(walk, acpi_le32(entry + 4), acpi_le32(entry + 8), X2APIC_ID_INVALID);
        return;
    case MADT_TYPE_LAPIC_OVERRIDE: {
        if (len < MADT_LAPIC_OVERRIDE_LEN) {
            acpi_warn(walk->ctx, "MADT", "local APIC address override entry too short, skipped");
            return;
        }
        uint64_t addr = acpi_le64(entry + 4);
        if (addr == 0) {
            acpi_warn(walk->ctx, "MADT", "local APIC address override is zero, skipped");
            return;
        }
        out->lapic_phys = addr;
        return;
    }
    default:
        return; /* I/O APICs, NMIs, ...: not needed here */
    }
}

void acpi_parse_madt(const struct acpi_ctx *ctx, const struct acpi_table *t)
{
    struct acpi_info *out = ctx->out;
    if (t->len < MADT_ENTRIES_OFF) {
        acpi_warn(ctx, t->name, "too short, table ignored");
        return;
    }
    out->have_madt = true;
    out->lapic_phys = acpi_le32(t->bytes + MADT_LAPIC_ADDR_OFF);
    out->pcat_compat = acpi_le32(t->bytes + MADT_FLAGS_OFF) & MADT_PCAT_COMPAT;

    struct madt_walk walk = {
        .ctx = ctx,
        .online_capable_defined = t->bytes[8] >= MADT_REV_ONLINE_CAPABLE,
    };
    /* Every step advances by at least 2 bytes and never past len, so the
     * walk ends even on garbage. */
    size_t off = MADT_ENTRIES_OFF;
    while (off < t->len) {
        size_t left = t->len - off;
        if (left < 2) {
            acpi_warn(ctx, t->name, "ends in a truncated entry, rest ignored");
            return;
        }
        uint8_t len = t->bytes[off + 1];
        if (len == 0) {
            acpi_warn(ctx, t->name, "has a zero-length entry, rest ignored");
            return;
        }
        if (len < 2) {
            acpi_warn(ctx, t->name, "has an entry shorter than its header, rest ignored");
            return;
        }
        if (len > left) {
            acpi_warn(ctx, t->name, "entry overruns the table, rest ignored");
            return;
        }
        parse_entry(&walk, t->bytes + off, len);
        off += len;
    }
}
