/* Entry point: validates the RSDP, picks the XSDT or RSDT, and hands each
 * table it knows to its parser. */
#include "hv/acpi/acpi_internal.h"

#define RSDP_V1_LEN 20u
#define RSDP_V2_LEN 36u
/* The ACPI 2.0+ RSDP is 36 bytes; allow future growth but keep the
 * extended-checksum loop bounded. */
#define RSDP_MAX_LEN 4096u

struct rsdp_facts {
    uint8_t revision;
    uint32_t rsdt_phys;
    uint64_t xsdt_phys; /* 0 for revision < 2 */
};

static bool rsdp_signature_ok(const uint8_t *p)
{
    static const char sig[8] = {'R', 'S', 'D', ' ', 'P', 'T', 'R', ' '};
    for (int i = 0; i < 8; i++) {
        if (p[i] != (uint8_t)sig[i])
            return false;
    }
    return true;
}

static int read_rsdp(const struct acpi_ctx *ctx, uint64_t phys, struct rsdp_facts *facts)
{
    if (!acpi_phys_range_ok(ctx, phys, RSDP_V1_LEN)) {
        acpi_warn(ctx, "RSDP", "lies beyond the mapped memory limit");
        return ACPI_ERR_RSDP_RANGE;
    }
    const uint8_t *p = acpi_phys_ptr(ctx, phys);
    if (!rsdp_signature_ok(p)) {
        acpi_warn(ctx, "RSDP", "signature mismatch");
        return ACPI_ERR_RSDP_SIGNATURE;
    }
    if (acpi_checksum(p, RSDP_V1_LEN) != 0) {
        acpi_warn(ctx, "RSDP", "checksum mismatch");
        return ACPI_ERR_RSDP_CHECKSUM;
    }
    facts->revision = p[15];
    facts->rsdt_phys = acpi_le32(p + 16);
    facts->xsdt_phys = 0;
    if (facts->revision < 2)
        return ACPI_OK;

    if (!acpi_phys_range_ok(ctx, phys, RSDP_V2_LEN)) {
        acpi_warn(ctx, "RSDP", "lies beyond the mapped memory limit");
        return ACPI_ERR_RSDP_RANGE;
    }
    uint32_t len = acpi_le32(p + 20);
    if (len < RSDP_V2_LEN || len > RSDP_MAX_LEN) {
        acpi_warn(ctx, "RSDP", "length field out of range");
        return ACPI_ERR_RSDP_LENGTH;
    }
    if (!acpi_phys_range_ok(ctx, phys, len)) {
        acpi_warn(ctx, "RSDP", "lies beyond the mapped memory limit");
        return ACPI_ERR_RSDP_RANGE;
    }
    if (acpi_checksum(p, len) != 0) {
        acpi_warn(ctx, "RSDP", "extended checksum mismatch");
        return ACPI_ERR_RSDP_XCHECKSUM;
    }
    facts->xsdt_phys = acpi_le64(p + 24);
    return ACPI_OK;
}

/* Sends the table at phys to its parser if it is one we know. */
static void dispatch(const struct acpi_ctx *ctx, const char *root_name, uint64_t phys)
{
    struct acpi_info *out = ctx->out;
    if (phys == 0) {
        acpi_warn(ctx, root_name, "has a null entry, skipped");
        return;
    }
    /* Only the header is read to learn the signature; the full checks run
     * for tables we actually parse, so a large unrelated table costs
     * nothing. */
    if (!acpi_phys_range_ok(ctx, phys, ACPI_HEADER_LEN)) {
        acpi_warn(ctx, root_name, "entry lies beyond the mapped memory limit, skipped");
        return;
    }
    const uint8_t *sig = acpi_phys_ptr(ctx, phys);

    const struct {
        const char *sig;
        bool *have;
        void (*parse)(const struct acpi_ctx *, const struct acpi_table *);
    } parsers[] = {
        {"APIC", &out->have_madt, acpi_parse_madt},
        {"FACP", &out->have_fadt, acpi_parse_fadt},
        {"HPET", &out->have_hpet, acpi_parse_hpet},
    };
    for (size_t i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++) {
        if (!acpi_sig_equals(sig, parsers[i].sig))
            continue;
        /* The first usable copy wins; firmware occasionally lists one twice. */
        if (*parsers[i].have) {
            acpi_warn(ctx, acpi_sig_name(sig), "appears twice, duplicate ignored");
            return;
        }
        struct acpi_table table;
        if (acpi_load_table(ctx, phys, parsers[i].sig, &table))
            parsers[i].parse(ctx, &table);
        return;
    }
}

static void walk_root(const struct acpi_ctx *ctx, const struct acpi_table *root, size_t entry_size)
{
    size_t count = (root->len - ACPI_HEADER_LEN) / entry_size;
    if ((root->len - ACPI_HEADER_LEN) % entry_size != 0)
        acpi_warn(ctx, root->name, "length is not a whole number of entries, tail ignored");
    for (size_t i = 0; i < count; i++) {
        const uint8_t *entry = root->bytes + ACPI_HEADER_LEN + i * entry_size;
        uint64_t phys = entry_size == 8 ? acpi_le64(entry) : acpi_le32(entry);
        dispatch(ctx, root->name, phys);
    }
}

int acpi_parse(uint64_t rsdp_phys, uintptr_t direct_map_offset, uint64_t phys_limit,
               struct acpi_info *out, void (*warn)(void *arg, const char *msg),
               void *warn_arg)
{
    if (!out)
        return ACPI_ERR_ARGS;
    uint8_t *raw = (uint8_t *)out;
    for (size_t i = 0; i < sizeof(*out); i++)
        raw[i] = 0;

    struct acpi_ctx ctx = {
        .direct_map_offset = direct_map_offset,
        .phys_limit = phys_limit,
        .warn = warn,
        .warn_arg = warn_arg,
        .out = out,
    };
    struct rsdp_facts rsdp;
    int err = read_rsdp(&ctx, rsdp_phys, &rsdp);
    if (err != ACPI_OK)
        return err;
    out->revision = rsdp.revision;

    /* The XSDT supersedes the RSDT when present (its entries can point above
     * 4 GiB); a broken one is survivable as long as the RSDT is fine. */
    struct acpi_table root;
    if (rsdp.xsdt_phys != 0 && acpi_load_table(&ctx, rsdp.xsdt_phys, "XSDT", &root)) {
        out->used_xsdt = true;
        walk_root(&ctx, &root, 8);
        return ACPI_OK;
    }
    if (rsdp.xsdt_phys != 0)
        acpi_warn(&ctx, "XSDT", "unusable, falling back to the RSDT");
    if (acpi_load_table(&ctx, rsdp.rsdt_phys, "RSDT", &root))
        walk_root(&ctx, &root, 4);
    return ACPI_OK;
}
