/* ACPI parser tests: synthetic firmware tables are built in a heap buffer that
 * stands for physical memory [FW_BASE, FW_BASE + FW_SIZE). The buffer ends
 * exactly at the default phys_limit, so any read the parser makes past the
 * limit is also an ASan error. */
#include "hv/acpi/acpi.h"

#include <assert.h>

#include "tests/unit/check.h"

#define FW_BASE 0xe0000ull
#define FW_SIZE (3u << 20) /* room for a table above the 1 MiB length bound */
#define FW_LIMIT (FW_BASE + FW_SIZE)
#define MIB (1u << 20)

/* ---- fake physical memory ---- */

static uint8_t *fw_mem;
static uint64_t fw_next;

static void fw_reset(void)
{
    free(fw_mem);
    fw_mem = calloc(1, FW_SIZE);
    assert(fw_mem);
    fw_next = FW_BASE + 0x100;
}

static uint8_t *fw_ptr(uint64_t phys)
{
    assert(phys >= FW_BASE && phys < FW_LIMIT);
    return fw_mem + (phys - FW_BASE);
}

static uintptr_t fw_offset(void)
{
    return (uintptr_t)fw_mem - (uintptr_t)FW_BASE;
}

static uint64_t fw_alloc(size_t len)
{
    uint64_t phys = fw_next;
    fw_next = (fw_next + len + 15) & ~15ull;
    assert(fw_next <= FW_LIMIT);
    return phys;
}

static void put8(uint64_t phys, size_t off, uint8_t v) { fw_ptr(phys)[off] = v; }
static void put16(uint64_t phys, size_t off, uint16_t v)
{
    put8(phys, off, (uint8_t)v);
    put8(phys, off + 1, (uint8_t)(v >> 8));
}
static void put32(uint64_t phys, size_t off, uint32_t v)
{
    put16(phys, off, (uint16_t)v);
    put16(phys, off + 2, (uint16_t)(v >> 16));
}
static void put64(uint64_t phys, size_t off, uint64_t v)
{
    put32(phys, off, (uint32_t)v);
    put32(phys, off + 4, (uint32_t)(v >> 32));
}
static void put_gas(uint64_t phys, size_t off, uint8_t space, uint8_t width, uint64_t addr)
{
    put8(phys, off, space);
    put8(phys, off + 1, width);
    put8(phys, off + 2, 0);
    put8(phys, off + 3, 0);
    put64(phys, off + 4, addr);
}

/* Makes bytes [0, len) of phys sum to zero by adjusting the byte at csum_off. */
static void fix_checksum(uint64_t phys, size_t len, size_t csum_off)
{
    uint8_t *p = fw_ptr(phys);
    p[csum_off] = 0;
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    p[csum_off] = (uint8_t)-sum;
}

/* ---- table builders ---- */

static void fill_header(uint64_t phys, const char *sig, uint8_t rev, uint32_t len)
{
    memcpy(fw_ptr(phys), sig, 4);
    put32(phys, 4, len);
    put8(phys, 8, rev);
    memcpy(fw_ptr(phys) + 10, "HVTEST", 6);
    memcpy(fw_ptr(phys) + 16, "UNITTEST", 8);
}

static uint64_t new_table(const char *sig, uint8_t rev, uint32_t len)
{
    uint64_t phys = fw_alloc(len);
    fill_header(phys, sig, rev, len);
    return phys;
}

/* Recomputes the checksum over the table's own length field. */
static void seal(uint64_t phys)
{
    uint32_t len;
    memcpy(&len, fw_ptr(phys) + 4, 4);
    fix_checksum(phys, len, 9);
}

static uint64_t make_root(const char *sig, const uint64_t *tables, size_t n)
{
    size_t entry = sig[0] == 'X' ? 8 : 4;
    uint64_t phys = new_table(sig, 1, (uint32_t)(36 + n * entry));
    for (size_t i = 0; i < n; i++) {
        if (entry == 8)
            put64(phys, 36 + i * 8, tables[i]);
        else
            put32(phys, 36 + i * 4, (uint32_t)tables[i]);
    }
    seal(phys);
    return phys;
}

static void fill_rsdp(uint64_t phys, uint8_t rev, uint32_t rsdt, uint64_t xsdt, uint32_t len)
{
    memcpy(fw_ptr(phys), "RSD PTR ", 8);
    memcpy(fw_ptr(phys) + 9, "HVTEST", 6);
    put8(phys, 15, rev);
    put32(phys, 16, rsdt);
    fix_checksum(phys, 20, 8);
    if (rev >= 2) {
        put32(phys, 20, len);
        put64(phys, 24, xsdt);
        fix_checksum(phys, len, 32);
    }
}

static uint64_t make_rsdp(uint8_t rev, uint64_t rsdt, uint64_t xsdt)
{
    uint64_t phys = fw_alloc(36);
    fill_rsdp(phys, rev, (uint32_t)rsdt, xsdt, 36);
    return phys;
}

/* RSDP v2 whose RSDT and XSDT both list the same tables. */
static uint64_t make_firmware(const uint64_t *tables, size_t n)
{
    return make_rsdp(2, make_root("RSDT", tables, n), make_root("XSDT", tables, n));
}

struct madt {
    uint8_t body[2048];
    size_t len;
};

static void madt_raw(struct madt *m, const uint8_t *bytes, size_t n)
{
    assert(m->len + n <= sizeof(m->body));
    memcpy(m->body + m->len, bytes, n);
    m->len += n;
}

static void madt_lapic(struct madt *m, uint8_t id, uint32_t flags)
{
    uint8_t e[8] = {0, 8, id /* uid */, id, (uint8_t)flags, (uint8_t)(flags >> 8),
                    (uint8_t)(flags >> 16), (uint8_t)(flags >> 24)};
    madt_raw(m, e, sizeof(e));
}

static void madt_x2apic(struct madt *m, uint32_t id, uint32_t flags)
{
    uint8_t e[16] = {9, 16};
    memcpy(e + 4, &id, 4);
    memcpy(e + 8, &flags, 4);
    memcpy(e + 12, &id, 4); /* uid */
    madt_raw(m, e, sizeof(e));
}

static void madt_override(struct madt *m, uint64_t addr)
{
    uint8_t e[12] = {5, 12};
    memcpy(e + 4, &addr, 8);
    madt_raw(m, e, sizeof(e));
}

static void fill_madt(uint64_t phys, const struct madt *m, uint8_t rev, uint32_t lapic, uint32_t flags)
{
    fill_header(phys, "APIC", rev, (uint32_t)(44 + m->len));
    put32(phys, 36, lapic);
    put32(phys, 40, flags);
    memcpy(fw_ptr(phys) + 44, m->body, m->len);
    seal(phys);
}

static uint64_t make_madt(const struct madt *m, uint8_t rev, uint32_t lapic, uint32_t flags)
{
    uint64_t phys = fw_alloc(44 + m->len);
    fill_madt(phys, m, rev, lapic, flags);
    return phys;
}

/* A table placed so that its last byte is the last byte of fake memory. */
static uint64_t alloc_at_end(size_t len)
{
    assert(fw_next + len <= FW_LIMIT);
    return FW_LIMIT - len;
}

static void fill_hpet(uint64_t phys, uint8_t space, uint64_t addr)
{
    fill_header(phys, "HPET", 1, 56);
    put32(phys, 36, 0x8086a201);
    put_gas(phys, 40, space, 64, addr);
    seal(phys);
}

static uint64_t make_hpet(uint8_t space, uint64_t addr)
{
    uint64_t phys = fw_alloc(56);
    fill_hpet(phys, space, addr);
    return phys;
}

/* ---- running the parser ---- */

#define MAX_WARNINGS 256
static char warnings[MAX_WARNINGS][160];
static int warning_count;

static void record_warning(void *arg, const char *msg)
{
    CHECK(arg == &warning_count);
    if (warning_count < MAX_WARNINGS)
        snprintf(warnings[warning_count], sizeof(warnings[0]), "%s", msg);
    warning_count++;
}

static bool warned(const char *needle)
{
    for (int i = 0; i < warning_count && i < MAX_WARNINGS; i++) {
        if (strstr(warnings[i], needle))
            return true;
    }
    return false;
}

static struct acpi_info info;

static int parse_limit(uint64_t rsdp, uint64_t limit)
{
    warning_count = 0;
    memset(&info, 0xa5, sizeof(info)); /* proves acpi_parse clears it */
    return acpi_parse(rsdp, fw_offset(), limit, &info, record_warning, &warning_count);
}

static int parse(uint64_t rsdp)
{
    return parse_limit(rsdp, FW_LIMIT);
}

static uint64_t simple_madt(uint8_t apic_id)
{
    struct madt m = {0};
    madt_lapic(&m, apic_id, 1);
    return make_madt(&m, 3, 0xfee00000, 1);
}

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
    CHECK(warned("FADT claims a reset register but is too short"));
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
    CHECK(warned("FADT claims a reset register but is too short"));
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
    CHECK(warned("PM1_CNT_LEN is below 2"));

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
