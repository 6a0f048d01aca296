/* ExitBootServices, done the way the spec requires: the map key must be the
 * one of the latest GetMemoryMap, and any allocation changes it. So the map
 * buffer is allocated first, with room to spare for the entries that very
 * allocation adds, and a stale key (EFI_INVALID_PARAMETER) is answered by
 * reading the map again into the same buffer: after a failed exit only
 * GetMemoryMap and ExitBootServices may be called.
 *
 * The boot tables' page pool is sized from the same map: it is allocated
 * first for a top of memory at 4 GiB (what a PC with less RAM needs), and
 * only when the map reaches higher is it allocated again for that and the
 * map read once more. The map is read in full once per boot, not twice
 * (OVMF's GetMemoryMap of some 127 ranges costs ~120,000 instructions of
 * boot_first_guest). */
#include "efi/memmap_convert.h"
#include "efi/stub.h"

#define EXIT_ATTEMPTS 8
#define SPARE_DESCRIPTORS 32

/* Console output may already be gone if an exit half-succeeded, but it is
 * the only channel left to say why we stop. */
static void __attribute__((noreturn)) give_up(const char *what, EFI_STATUS st)
{
    stub_notes_print();
    stub_print("hv: %a (%r); giving up\r\n", what, st);
    for (;;)
        __asm__ volatile("cli; hlt");
}

void stub_exit_boot_services(EFI_HANDLE image, struct handoff *h, struct page_pool *pool)
{
    UINTN map_size = 0, key = 0, desc_size = 0;
    UINT32 desc_version = 0;
    EFI_STATUS st = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, NULL, &key, &desc_size,
                                      &desc_version);
    if (st != EFI_BUFFER_TOO_SMALL || desc_size == 0)
        give_up("GetMemoryMap gave no size", st);
    UINTN capacity = map_size + SPARE_DESCRIPTORS * desc_size;
    void *map = stub_alloc_pages((capacity + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE);
    UINTN pages = EFI_BOOT_TABLE_PAGES_MIN;
    bool sized = false, exited = false, tried = false;
    st = EFI_OUT_OF_RESOURCES;
    for (int attempt = 0; map && attempt < EXIT_ATTEMPTS && !exited; attempt++) {
        if (!sized && !stub_reserve_page_pool(pool, pages)) {
            st = EFI_OUT_OF_RESOURCES; /* not the last read's status */
            break;
        }
        map_size = capacity;
        st = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, map, &key, &desc_size, &desc_version);
        if (EFI_ERROR(st))
            break;
        /* Reserved before this read of the map: if it is enough, the key
         * just read is the latest. Every read is checked, the one after a
         * stale key too; after a failed exit only the map may be read
         * again, so a pool found short then is the end. */
        pages = efi_memmap_table_pages(map, map_size, desc_size);
        sized = pages <= pool->pages;
        if (!sized) {
            st = EFI_OUT_OF_RESOURCES;
            if (tried)
                break;
            uefi_call_wrapper(BS->FreePages, 2, pool->base, pool->pages);
            continue;
        }
        st = uefi_call_wrapper(BS->ExitBootServices, 2, image, key);
        exited = !EFI_ERROR(st);
        tried = true;
    }
    if (!exited)
        give_up(sized ? "ExitBootServices failed"
                      : "no memory map, or no memory for it or the boot page tables", st);
    h->mem_count = (uint32_t)efi_memmap_convert(map, map_size, desc_size, h->mem,
                                                HANDOFF_MAX_MEM_RANGES, &h->mem_truncated);
}
