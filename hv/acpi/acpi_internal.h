/* Shared by the ACPI parser's files: bounded access to physical memory and to
 * validated tables, and warning messages. Not part of the public API. */
#pragma once

#include "hv/acpi/acpi.h"

#define ACPI_HEADER_LEN 36u
/* Real static tables (MADT, FADT, HPET, XSDT) are a few KiB at most; a bigger
 * length is corruption, and refusing it bounds the checksum loop. */
#define ACPI_TABLE_MAX_LEN (1u << 20)

struct acpi_ctx {
    uintptr_t direct_map_offset;
    uint64_t phys_limit;
    void (*warn)(void *arg, const char *msg);
    void *warn_arg;
    struct acpi_info *out;
};

/* A table whose bytes [0, len) are known to lie below phys_limit and whose
 * header and checksum were checked. */
struct acpi_table {
    const uint8_t *bytes;
    uint32_t len;
    const char *name; /* for messages: "MADT", "FADT", ... */
};

/* true if [phys, phys + len) lies entirely below the limit (no wrap). */
bool acpi_phys_range_ok(const struct acpi_ctx *ctx, uint64_t phys, uint64_t len);
const uint8_t *acpi_phys_ptr(const struct acpi_ctx *ctx, uint64_t phys);

uint8_t acpi_checksum(const uint8_t *bytes, size_t len);

/* Little-endian reads at any alignment. */
uint16_t acpi_le16(const uint8_t *p);
uint32_t acpi_le32(const uint8_t *p);
uint64_t acpi_le64(const uint8_t *p);
struct acpi_gas acpi_read_gas(const uint8_t *p); /* 12 bytes */

/* true if the field [off, off + size) is inside the table. */
bool acpi_table_has(const struct acpi_table *t, size_t off, size_t size);

/* Sends "ACPI: <what> <reason>" to the warn callback, if any. */
void acpi_warn(const struct acpi_ctx *ctx, const char *what, const char *reason);

/* true if the 4 signature bytes spell expected. */
bool acpi_sig_equals(const uint8_t sig[4], const char *expected);

/* Human name of a signature for messages ("APIC" is the MADT, "FACP" the
 * FADT); unknown signatures give NULL. */
const char *acpi_sig_name(const uint8_t sig[4]);

/* Checks and maps the table at phys. expected_sig (4 chars) must match; the
 * name in messages is its acpi_sig_name(). Warns and returns false if the
 * table is unusable. */
bool acpi_load_table(const struct acpi_ctx *ctx, uint64_t phys, const char *expected_sig,
                     struct acpi_table *table);

void acpi_parse_madt(const struct acpi_ctx *ctx, const struct acpi_table *t);
void acpi_parse_fadt(const struct acpi_ctx *ctx, const struct acpi_table *t);
void acpi_parse_hpet(const struct acpi_ctx *ctx, const struct acpi_table *t);
