/* What the ACPI parser tests share (tests/unit/test_acpi*.c, one binary
 * each): synthetic firmware tables are built in a heap buffer that stands
 * for physical memory [FW_BASE, FW_BASE + FW_SIZE). The buffer ends exactly
 * at the default phys_limit, so any read the parser makes past the limit is
 * also an ASan error. Each test file includes it once. */
#pragma once

#include "hv/acpi/acpi.h"

#include <assert.h>

#include "tests/unit/check.h"

/* Not every test file uses every helper. */
#define FIXTURE static __attribute__((unused))

#define FW_BASE 0xe0000ull
#define FW_SIZE (3u << 20) /* room for a table above the 1 MiB length bound */
#define FW_LIMIT (FW_BASE + FW_SIZE)
#define MIB (1u << 20)

/* ---- fake physical memory ---- */

static uint8_t *fw_mem;
static uint64_t fw_next;

FIXTURE void fw_reset(void)
{
    free(fw_mem);
    fw_mem = calloc(1, FW_SIZE);
    assert(fw_mem);
    fw_next = FW_BASE + 0x100;
}

FIXTURE uint8_t *fw_ptr(uint64_t phys)
{
    assert(phys >= FW_BASE && phys < FW_LIMIT);
    return fw_mem + (phys - FW_BASE);
}

FIXTURE uintptr_t fw_offset(void)
{
    return (uintptr_t)fw_mem - (uintptr_t)FW_BASE;
}

FIXTURE uint64_t fw_alloc(size_t len)
{
    uint64_t phys = fw_next;
    fw_next = (fw_next + len + 15) & ~15ull;
    assert(fw_next <= FW_LIMIT);
    return phys;
}

FIXTURE void put8(uint64_t phys, size_t off, uint8_t v) { fw_ptr(phys)[off] = v; }
FIXTURE void put16(uint64_t phys, size_t off, uint16_t v)
{
    put8(phys, off, (uint8_t)v);
    put8(phys, off + 1, (uint8_t)(v >> 8));
}
FIXTURE void put32(uint64_t phys, size_t off, uint32_t v)
{
    put16(phys, off, (uint16_t)v);
    put16(phys, off + 2, (uint16_t)(v >> 16));
}
FIXTURE void put64(uint64_t phys, size_t off, uint64_t v)
{
    put32(phys, off, (uint32_t)v);
    put32(phys, off + 4, (uint32_t)(v >> 32));
}
FIXTURE void put_gas(uint64_t phys, size_t off, uint8_t space, uint8_t width, uint64_t addr)
{
    put8(phys, off, space);
    put8(phys, off + 1, width);
    put8(phys, off + 2, 0);
    put8(phys, off + 3, 0);
    put64(phys, off + 4, addr);
}

/* Makes bytes [0, len) of phys sum to zero by adjusting the byte at csum_off. */
FIXTURE void fix_checksum(uint64_t phys, size_t len, size_t csum_off)
{
    uint8_t *p = fw_ptr(phys);
    p[csum_off] = 0;
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    p[csum_off] = (uint8_t)-sum;
}

/* ---- table builders ---- */

FIXTURE void fill_header(uint64_t phys, const char *sig, uint8_t rev, uint32_t len)
{
    memcpy(fw_ptr(phys), sig, 4);
    put32(phys, 4, len);
    put8(phys, 8, rev);
    memcpy(fw_ptr(phys) + 10, "HVTEST", 6);
    memcpy(fw_ptr(phys) + 16, "UNITTEST", 8);
}

FIXTURE uint64_t new_table(const char *sig, uint8_t rev, uint32_t len)
{
    uint64_t phys = fw_alloc(len);
    fill_header(phys, sig, rev, len);
    return phys;
}

/* Recomputes the checksum over the table's own length field. */
FIXTURE void seal(uint64_t phys)
{
    uint32_t len;
    memcpy(&len, fw_ptr(phys) + 4, 4);
    fix_checksum(phys, len, 9);
}

FIXTURE uint64_t make_root(const char *sig, const uint64_t *tables, size_t n)
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

FIXTURE void fill_rsdp(uint64_t phys, uint8_t rev, uint32_t rsdt, uint64_t xsdt, uint32_t len)
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

FIXTURE uint64_t make_rsdp(uint8_t rev, uint64_t rsdt, uint64_t xsdt)
{
    uint64_t phys = fw_alloc(36);
    fill_rsdp(phys, rev, (uint32_t)rsdt, xsdt, 36);
    return phys;
}

/* RSDP v2 whose RSDT and XSDT both list the same tables. */
FIXTURE uint64_t make_firmware(const uint64_t *tables, size_t n)
{
    return make_rsdp(2, make_root("RSDT", tables, n), make_root("XSDT", tables, n));
}

struct madt {
    uint8_t body[2048];
    size_t len;
};

FIXTURE void madt_raw(struct madt *m, const uint8_t *bytes, size_t n)
{
    assert(m->len + n <= sizeof(m->body));
    memcpy(m->body + m->len, bytes, n);
    m->len += n;
}

FIXTURE void madt_lapic(struct madt *m, uint8_t id, uint32_t flags)
{
    uint8_t e[8] = {0, 8, id /* uid */, id, (uint8_t)flags, (uint8_t)(flags >> 8),
                    (uint8_t)(flags >> 16), (uint8_t)(flags >> 24)};
    madt_raw(m, e, sizeof(e));
}

FIXTURE void madt_x2apic(struct madt *m, uint32_t id, uint32_t flags)
{
    uint8_t e[16] = {9, 16};
    memcpy(e + 4, &id, 4);
    memcpy(e + 8, &flags, 4);
    memcpy(e + 12, &id, 4); /* uid */
    madt_raw(m, e, sizeof(e));
}

FIXTURE void madt_override(struct madt *m, uint64_t addr)
{
    uint8_t e[12] = {5, 12};
    memcpy(e + 4, &addr, 8);
    madt_raw(m, e, sizeof(e));
}

FIXTURE void fill_madt(uint64_t phys, const struct madt *m, uint8_t rev, uint32_t lapic, uint32_t flags)
{
    fill_header(phys, "APIC", rev, (uint32_t)(44 + m->len));
    put32(phys, 36, lapic);
    put32(phys, 40, flags);
    memcpy(fw_ptr(phys) + 44, m->body, m->len);
    seal(phys);
}

FIXTURE uint64_t make_madt(const struct madt *m, uint8_t rev, uint32_t lapic, uint32_t flags)
{
    uint64_t phys = fw_alloc(44 + m->len);
    fill_madt(phys, m, rev, lapic, flags);
    return phys;
}

/* A table placed so that its last byte is the last byte of fake memory. */
FIXTURE uint64_t alloc_at_end(size_t len)
{
    assert(fw_next + len <= FW_LIMIT);
    return FW_LIMIT - len;
}

FIXTURE void fill_hpet(uint64_t phys, uint8_t space, uint64_t addr)
{
    fill_header(phys, "HPET", 1, 56);
    put32(phys, 36, 0x8086a201);
    put_gas(phys, 40, space, 64, addr);
    seal(phys);
}

FIXTURE uint64_t make_hpet(uint8_t space, uint64_t addr)
{
    uint64_t phys = fw_alloc(56);
    fill_hpet(phys, space, addr);
    return phys;
}

/* ---- running the parser ---- */

#define MAX_WARNINGS 256
static char warnings[MAX_WARNINGS][160];
static int warning_count;

FIXTURE void record_warning(void *arg, const char *msg)
{
    CHECK(arg == &warning_count);
    if (warning_count < MAX_WARNINGS)
        snprintf(warnings[warning_count], sizeof(warnings[0]), "%s", msg);
    warning_count++;
}

FIXTURE bool warned(const char *needle)
{
    for (int i = 0; i < warning_count && i < MAX_WARNINGS; i++) {
        if (strstr(warnings[i], needle))
            return true;
    }
    return false;
}

static struct acpi_info info;

FIXTURE int parse_limit(uint64_t rsdp, uint64_t limit)
{
    warning_count = 0;
    memset(&info, 0xa5, sizeof(info)); /* proves acpi_parse clears it */
    return acpi_parse(rsdp, fw_offset(), limit, &info, record_warning, &warning_count);
}

FIXTURE int parse(uint64_t rsdp)
{
    return parse_limit(rsdp, FW_LIMIT);
}

FIXTURE uint64_t simple_madt(uint8_t apic_id)
{
    struct madt m = {0};
    madt_lapic(&m, apic_id, 1);
    return make_madt(&m, 3, 0xfee00000, 1);
}
