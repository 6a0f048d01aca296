/* Translating the firmware's memory map into hv's plain memory ranges.
 * Pure (no boot services), so host unit tests can feed it any shape of map. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hv/mm/memmap.h"

/* The UEFI descriptor as the spec lays it out; the firmware's stride
 * (descriptor_size) may be larger, and is honoured. */
struct efi_mem_desc {
    uint32_t type;
    uint32_t pad;
    uint64_t phys_start;
    uint64_t virt_start;
    uint64_t pages;
    uint64_t attribute;
};

/* UEFI memory types (UEFI spec, EFI_MEMORY_TYPE). */
enum {
    EFI_TYPE_RESERVED = 0,
    EFI_TYPE_LOADER_CODE = 1,
    EFI_TYPE_LOADER_DATA = 2,
    EFI_TYPE_BOOT_CODE = 3,
    EFI_TYPE_BOOT_DATA = 4,
    EFI_TYPE_RUNTIME_CODE = 5,
    EFI_TYPE_RUNTIME_DATA = 6,
    EFI_TYPE_CONVENTIONAL = 7,
    EFI_TYPE_UNUSABLE = 8,
    EFI_TYPE_ACPI_RECLAIM = 9,
    EFI_TYPE_ACPI_NVS = 10,
    EFI_TYPE_MMIO = 11,
    EFI_TYPE_MMIO_PORT = 12,
    EFI_TYPE_PAL_CODE = 13,
    EFI_TYPE_PERSISTENT = 14,
    EFI_TYPE_UNACCEPTED = 15,
};

#define EFI_MEMORY_RUNTIME_ATTR 0x8000000000000000ULL

uint32_t efi_type_to_mem_kind(uint32_t efi_type, uint64_t attribute);

/* Converts `map_size` bytes of descriptors laid out `desc_size` apart into
 * at most `cap` ranges. Returns how many were written; *truncated is set when
 * the map had more descriptors than room (the extra ones are lost, which only
 * ever loses memory hv could have used: see the caller). */
size_t efi_memmap_convert(const void *map, size_t map_size, size_t desc_size,
                          struct mem_range *out, size_t cap, bool *truncated);

/* Where a range ends for the boot tables (the pool's size here, the
 * identity and direct maps' top in efi/boot_paging.c: the two agree
 * through this): base + size, or 0, not mapped and not counted, when that
 * passes 2^52, the largest physical address x86-64 has, or wraps past
 * 2^64 (firmware garbage; counted as reaching the top, it asked for a pool
 * of 2^35 pages and failed the boot, while the builder skipped it). */
#define EFI_PHYS_LIMIT (1ULL << 52)
static inline uint64_t efi_mapped_end(uint64_t base, uint64_t size)
{
    return base <= EFI_PHYS_LIMIT && size <= EFI_PHYS_LIMIT - base ? base + size : 0;
}

/* Page-table pages the stub's boot tables need for this map (efi/boot_paging.c):
 * the identity and direct maps of [0, top) in 2 MiB pages, top the end of
 * the highest range that is not device memory only an OS uses
 * (efi_mapped_end), at least
 * 4 GiB (one page directory per GiB for each map, plus the directory-pointer
 * pages), and 32 for the root and the core's 4 KiB tables, with a margin.
 * EFI_BOOT_TABLE_PAGES_MIN is the figure for a top of 4 GiB or less. */
size_t efi_memmap_table_pages(const void *map, size_t map_size, size_t desc_size);
#define EFI_BOOT_TABLE_PAGES(gib) (2 * (gib) + 2 * ((gib) / 512 + 1) + 32)
#define EFI_BOOT_TABLE_PAGES_MIN EFI_BOOT_TABLE_PAGES(4)
