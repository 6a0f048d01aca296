/* The firmware memory map conversion in efi/memmap_convert.c. */
#include "check.h"
#include "efi/memmap_convert.h"

/* Firmware may lay descriptors out with a larger stride than the struct. */
struct padded_desc {
    struct efi_mem_desc d;
    uint64_t firmware_extra[2];
};

static void types_map_to_kinds(void)
{
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_CONVENTIONAL, 0), MEM_USABLE);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_BOOT_CODE, 0), MEM_USABLE);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_BOOT_DATA, 0), MEM_USABLE);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_LOADER_CODE, 0), MEM_USABLE);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_LOADER_DATA, 0), MEM_BOOTLOADER);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_RUNTIME_CODE, 0), MEM_RUNTIME);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_RUNTIME_DATA, 0), MEM_RUNTIME);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_ACPI_RECLAIM, 0), MEM_ACPI_RECLAIM);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_ACPI_NVS, 0), MEM_ACPI_NVS);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_MMIO, 0), MEM_MMIO);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_MMIO_PORT, 0), MEM_MMIO);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_UNUSABLE, 0), MEM_UNUSABLE);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_PERSISTENT, 0), MEM_UNUSABLE);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_UNACCEPTED, 0), MEM_UNUSABLE);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_RESERVED, 0), MEM_RESERVED);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_PAL_CODE, 0), MEM_RESERVED);
    /* OEM and OS-defined types are unknown: keep out. */
    CHECK_EQ_U64(efi_type_to_mem_kind(0x70000001u, 0), MEM_RESERVED);
    CHECK_EQ_U64(efi_type_to_mem_kind(0x80000000u, 0), MEM_RESERVED);
}

static void runtime_attribute_wins(void)
{
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_CONVENTIONAL, EFI_MEMORY_RUNTIME_ATTR), MEM_RUNTIME);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_BOOT_DATA, EFI_MEMORY_RUNTIME_ATTR), MEM_RUNTIME);
    CHECK_EQ_U64(efi_type_to_mem_kind(EFI_TYPE_MMIO, EFI_MEMORY_RUNTIME_ATTR), MEM_RUNTIME);
}

static void honours_larger_stride(void)
{
    struct padded_desc map[3];
    memset(map, 0xee, sizeof(map)); /* padding garbage must be ignored */
    map[0].d = (struct efi_mem_desc){EFI_TYPE_CONVENTIONAL, 0, 0x100000, 0, 16, 0};
    map[1].d = (struct efi_mem_desc){EFI_TYPE_ACPI_NVS, 0, 0x200000, 0, 1, 0};
    map[2].d = (struct efi_mem_desc){EFI_TYPE_LOADER_DATA, 0, 0x300000, 0, 2, 0};
    struct mem_range out[8];
    bool truncated = true;
    size_t n = efi_memmap_convert(map, sizeof(map), sizeof(map[0]), out, 8, &truncated);
    CHECK_EQ_U64(n, 3);
    CHECK(!truncated);
    CHECK_EQ_U64(out[0].base, 0x100000);
    CHECK_EQ_U64(out[0].size, 16 * 4096);
    CHECK_EQ_U64(out[0].kind, MEM_USABLE);
    CHECK_EQ_U64(out[1].kind, MEM_ACPI_NVS);
    CHECK_EQ_U64(out[2].size, 2 * 4096);
    CHECK_EQ_U64(out[2].kind, MEM_BOOTLOADER);
}

static void refuses_short_stride(void)
{
    struct efi_mem_desc map[2] = {{EFI_TYPE_CONVENTIONAL, 0, 0x100000, 0, 1, 0}};
    struct mem_range out[4];
    bool truncated;
    CHECK_EQ_U64(efi_memmap_convert(map, sizeof(map), sizeof(map[0]) - 8, out, 4, &truncated), 0);
    CHECK_EQ_U64(efi_memmap_convert(map, sizeof(map), 0, out, 4, &truncated), 0);
}

static void skips_empty_and_partial(void)
{
    /* Two whole descriptors and half of a third: the half is not read. */
    struct efi_mem_desc map[3] = {
        {EFI_TYPE_CONVENTIONAL, 0, 0x100000, 0, 0, 0},
        {EFI_TYPE_CONVENTIONAL, 0, 0x200000, 0, 4, 0},
        {EFI_TYPE_CONVENTIONAL, 0, 0x300000, 0, 4, 0},
    };
    struct mem_range out[4];
    bool truncated;
    size_t n = efi_memmap_convert(map, sizeof(map) - sizeof(map[0]) / 2, sizeof(map[0]), out, 4,
                                  &truncated);
    CHECK_EQ_U64(n, 1);
    CHECK_EQ_U64(out[0].base, 0x200000);
}

static void huge_page_count_is_clamped(void)
{
    struct efi_mem_desc map[1] = {{EFI_TYPE_RESERVED, 0, 0x1000, 0, 1ULL << 60, 0}};
    struct mem_range out[1];
    bool truncated;
    size_t n = efi_memmap_convert(map, sizeof(map), sizeof(map[0]), out, 1, &truncated);
    CHECK_EQ_U64(n, 1);
    CHECK_EQ_U64(out[0].base + out[0].size, ~0ULL); /* no wrap past 2^64 */
}

static void reports_truncation(void)
{
    struct efi_mem_desc map[3] = {
        {EFI_TYPE_CONVENTIONAL, 0, 0x100000, 0, 1, 0},
        {EFI_TYPE_CONVENTIONAL, 0, 0x200000, 0, 1, 0},
        {EFI_TYPE_CONVENTIONAL, 0, 0x300000, 0, 1, 0},
    };
    struct mem_range out[2];
    bool truncated = false;
    CHECK_EQ_U64(efi_memmap_convert(map, sizeof(map), sizeof(map[0]), out, 2, &truncated), 2);
    CHECK(truncated);
}

int main(void)
{
    check_suite = "efi_memmap";
    RUN_TEST(types_map_to_kinds);
    RUN_TEST(runtime_attribute_wins);
    RUN_TEST(honours_larger_stride);
    RUN_TEST(refuses_short_stride);
    RUN_TEST(skips_empty_and_partial);
    RUN_TEST(huge_page_count_is_clamped);
    RUN_TEST(reports_truncation);
    return check_finish();
}
