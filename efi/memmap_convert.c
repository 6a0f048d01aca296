#include "efi/memmap_convert.h"

uint32_t efi_type_to_mem_kind(uint32_t efi_type, uint64_t attribute)
{
    /* Anything the firmware needs after ExitBootServices must stay untouched,
     * whatever its type says, so the runtime attribute wins. */
    if (attribute & EFI_MEMORY_RUNTIME_ATTR)
        return MEM_RUNTIME;
    switch (efi_type) {
    case EFI_TYPE_CONVENTIONAL:
    case EFI_TYPE_BOOT_CODE:
    case EFI_TYPE_BOOT_DATA:
    /* The stub's own code is dead once the core runs. */
    case EFI_TYPE_LOADER_CODE:
        return MEM_USABLE;
    /* Loader data holds what the stub hands over: the core, the handoff, the
     * files read from the ESP and the boot page tables. */
    case EFI_TYPE_LOADER_DATA:
        return MEM_BOOTLOADER;
    case EFI_TYPE_RUNTIME_CODE:
    case EFI_TYPE_RUNTIME_DATA:
        return MEM_RUNTIME;
    case EFI_TYPE_ACPI_RECLAIM:
        return MEM_ACPI_RECLAIM;
    case EFI_TYPE_ACPI_NVS:
        return MEM_ACPI_NVS;
    case EFI_TYPE_MMIO:
    case EFI_TYPE_MMIO_PORT:
        return MEM_MMIO;
    case EFI_TYPE_UNUSABLE:
    case EFI_TYPE_PERSISTENT:
    /* Unaccepted memory needs a TDX/SEV-SNP accept protocol hv does not
     * speak; touching it would fault. */
    case EFI_TYPE_UNACCEPTED:
        return MEM_UNUSABLE;
    default:
        /* Reserved, PAL code, OEM and OS-defined types: unknown means keep out. */
        return MEM_RESERVED;
    }
}

size_t efi_memmap_convert(const void *map, size_t map_size, size_t desc_size,
                          struct mem_range *out, size_t cap, bool *truncated)
{
    size_t n = 0;
    *truncated = false;
    /* A stride smaller than the spec's descriptor would make us read fields
     * of the next entry: refuse the whole map rather than guess. */
    if (desc_size < sizeof(struct efi_mem_desc))
        return 0;
    for (size_t off = 0; off <= map_size && map_size - off >= desc_size; off += desc_size) {
        const struct efi_mem_desc *d = (const struct efi_mem_desc *)((const uint8_t *)map + off);
        if (d->pages == 0)
            continue;
        if (n == cap) {
            *truncated = true;
            break;
        }
        uint64_t size = d->pages << 12;
        if ((size >> 12) != d->pages) /* more pages than the address space */
            size = ~0ULL - d->phys_start;
        out[n].base = d->phys_start;
        out[n].size = size;
        out[n].kind = efi_type_to_mem_kind(d->type, d->attribute);
        n++;
    }
    return n;
}

size_t efi_memmap_table_pages(const void *map, size_t map_size, size_t desc_size)
{
    uint64_t top = 1ULL << 32;
    for (size_t off = 0; desc_size >= sizeof(struct efi_mem_desc) && off <= map_size &&
                         map_size - off >= desc_size;
         off += desc_size) {
        const struct efi_mem_desc *d = (const struct efi_mem_desc *)((const uint8_t *)map + off);
        /* Device ranges only the OS uses are not mapped at boot
         * (stub_build_boot_tables); runtime ones are. */
        bool device_only = (d->type == EFI_TYPE_MMIO || d->type == EFI_TYPE_MMIO_PORT) &&
                           !(d->attribute & EFI_MEMORY_RUNTIME_ATTR);
        uint64_t end = efi_mapped_end(d->phys_start,
                                      d->pages > EFI_PHYS_LIMIT >> 12 ? ~0ULL : d->pages << 12);
        if (end > top && !device_only)
            top = end;
    }
    uint64_t gib = (top >> 30) + ((top & ((1ULL << 30) - 1)) != 0);
    return (size_t)EFI_BOOT_TABLE_PAGES(gib);
}
