/* The boot tables' page pool, sized from the firmware's memory map
 * (efi_memmap_table_pages in efi/memmap_convert.c): the stub reserves
 * EFI_BOOT_TABLE_PAGES_MIN before its one full read of the map
 * (efi/exit_boot.c) and reserves again only when the map needs more. */
#include "check.h"
#include "efi/memmap_convert.h"

#define GIB (1ULL << 30)

struct padded_desc {
    struct efi_mem_desc d;
    uint64_t firmware_extra[2];
};

static struct efi_mem_desc range(uint32_t type, uint64_t base, uint64_t bytes, uint64_t attr)
{
    struct efi_mem_desc d = {.type = type, .phys_start = base, .pages = bytes >> 12,
                             .attribute = attr};
    return d;
}

static void small_pc_needs_the_minimum(void)
{
    struct efi_mem_desc map[] = {
        range(EFI_TYPE_CONVENTIONAL, 0, 640 << 10, 0),
        range(EFI_TYPE_LOADER_DATA, 1 << 20, 255ULL << 20, 0),
        range(EFI_TYPE_RESERVED, 0xffc00000, 4 << 20, 0), /* the flash, to 4 GiB */
    };
    CHECK_EQ_U64(efi_memmap_table_pages(map, sizeof(map), sizeof(map[0])),
                 EFI_BOOT_TABLE_PAGES_MIN);
    /* Two directories per GiB of 4, two pointer pages, 32 for the rest. */
    CHECK_EQ_U64(EFI_BOOT_TABLE_PAGES_MIN, 42);
    /* No descriptor at all: still the 4 GiB the firmware's MMIO needs. */
    CHECK_EQ_U64(efi_memmap_table_pages(map, 0, sizeof(map[0])), EFI_BOOT_TABLE_PAGES_MIN);
}

static void ram_above_4g_needs_more(void)
{
    struct efi_mem_desc map[] = {
        range(EFI_TYPE_CONVENTIONAL, 0, 2 * GIB, 0),
        range(EFI_TYPE_CONVENTIONAL, 4 * GIB, 12 * GIB + 4096, 0), /* ends a page past 16 GiB */
    };
    size_t pages = efi_memmap_table_pages(map, sizeof(map), sizeof(map[0]));
    CHECK_EQ_U64(pages, EFI_BOOT_TABLE_PAGES(17));
    CHECK(pages > EFI_BOOT_TABLE_PAGES_MIN);
    /* Exactly 16 GiB: 16 directories each. */
    map[1].pages = (12 * GIB) >> 12;
    CHECK_EQ_U64(efi_memmap_table_pages(map, sizeof(map), sizeof(map[0])), 2 * 16 + 2 + 32);
}

static void os_only_device_ranges_do_not_count(void)
{
    struct efi_mem_desc map[] = {
        range(EFI_TYPE_CONVENTIONAL, 0, 1 * GIB, 0),
        range(EFI_TYPE_MMIO, 64 * GIB, 1 * GIB, 0),      /* a PCI window far up */
        range(EFI_TYPE_MMIO_PORT, 80 * GIB, 4096, 0),
    };
    CHECK_EQ_U64(efi_memmap_table_pages(map, sizeof(map), sizeof(map[0])),
                 EFI_BOOT_TABLE_PAGES_MIN);
    /* What the runtime services use is mapped, so it counts. */
    map[1].attribute = EFI_MEMORY_RUNTIME_ATTR;
    CHECK_EQ_U64(efi_memmap_table_pages(map, sizeof(map), sizeof(map[0])),
                 EFI_BOOT_TABLE_PAGES(65));
}

static void stride_and_partial_descriptors(void)
{
    struct padded_desc map[2] = {
        {.d = range(EFI_TYPE_CONVENTIONAL, 0, 1 * GIB, 0)},
        {.d = range(EFI_TYPE_BOOT_DATA, 8 * GIB, 1 * GIB, 0)},
    };
    CHECK_EQ_U64(efi_memmap_table_pages(map, sizeof(map), sizeof(map[0])),
                 EFI_BOOT_TABLE_PAGES(9));
    /* The second descriptor cut short by the map's size: not read. */
    CHECK_EQ_U64(efi_memmap_table_pages(map, sizeof(map) - 8, sizeof(map[0])),
                 EFI_BOOT_TABLE_PAGES_MIN);
    /* A stride shorter than a descriptor: nothing read. */
    CHECK_EQ_U64(efi_memmap_table_pages(map, sizeof(map), sizeof(struct efi_mem_desc) - 8),
                 EFI_BOOT_TABLE_PAGES_MIN);
}

/* A range past the largest physical address, or whose end wraps past
 * 2^64, is firmware garbage: neither counted nor mapped (efi_mapped_end,
 * which efi/boot_paging.c's top uses too). Counted as reaching the top, it
 * asked for a pool of some 2^35 pages and failed the boot. */
static void ends_past_the_address_space_do_not_count(void)
{
    struct efi_mem_desc map[] = {
        range(EFI_TYPE_CONVENTIONAL, 0, 1 * GIB, 0),
        range(EFI_TYPE_CONVENTIONAL, ~0ULL - 4095, 2 * 4096, 0), /* end wraps to 4096 */
    };
    CHECK_EQ_U64(efi_memmap_table_pages(map, sizeof(map), sizeof(map[0])),
                 EFI_BOOT_TABLE_PAGES_MIN);
    /* More pages than the address space has. */
    map[1] = range(EFI_TYPE_CONVENTIONAL, 1 * GIB, 0, 0);
    map[1].pages = 1ULL << 60;
    CHECK_EQ_U64(efi_memmap_table_pages(map, sizeof(map), sizeof(map[0])),
                 EFI_BOOT_TABLE_PAGES_MIN);
    /* Up to 2^52 exactly counts; a page more does not. */
    map[1] = range(EFI_TYPE_CONVENTIONAL, EFI_PHYS_LIMIT - GIB, 1 * GIB, 0);
    CHECK_EQ_U64(efi_memmap_table_pages(map, sizeof(map), sizeof(map[0])),
                 EFI_BOOT_TABLE_PAGES(EFI_PHYS_LIMIT / GIB));
    map[1].pages++;
    CHECK_EQ_U64(efi_memmap_table_pages(map, sizeof(map), sizeof(map[0])),
                 EFI_BOOT_TABLE_PAGES_MIN);
}

/* The helper itself, as the builder calls it with a converted range
 * (efi_memmap_convert gives a range of too many pages the size ~0 - base). */
static void mapped_end_of_converted_ranges(void)
{
    CHECK_EQ_U64(efi_mapped_end(4 * GIB, 12 * GIB), 16 * GIB);
    CHECK_EQ_U64(efi_mapped_end(0, EFI_PHYS_LIMIT), EFI_PHYS_LIMIT);
    CHECK_EQ_U64(efi_mapped_end(0, EFI_PHYS_LIMIT + 1), 0);
    CHECK_EQ_U64(efi_mapped_end(EFI_PHYS_LIMIT + 4096, 4096), 0);
    CHECK_EQ_U64(efi_mapped_end(~0ULL - 4095, 2 * 4096), 0);  /* wraps */
    CHECK_EQ_U64(efi_mapped_end(1 * GIB, ~0ULL - 1 * GIB), 0); /* to the end of it all */
    struct efi_mem_desc huge = range(EFI_TYPE_CONVENTIONAL, 1 * GIB, 0, 0);
    huge.pages = 1ULL << 60;
    struct mem_range r;
    bool cut;
    CHECK_EQ_U64(efi_memmap_convert(&huge, sizeof(huge), sizeof(huge), &r, 1, &cut), 1);
    CHECK_EQ_U64(efi_mapped_end(r.base, r.size), 0);
}

int main(void)
{
    check_suite = "boot_pool";
    RUN_TEST(small_pc_needs_the_minimum);
    RUN_TEST(ram_above_4g_needs_more);
    RUN_TEST(os_only_device_ranges_do_not_count);
    RUN_TEST(stride_and_partial_descriptors);
    RUN_TEST(ends_past_the_address_space_do_not_count);
    RUN_TEST(mapped_end_of_converted_ranges);
    return check_finish();
}
