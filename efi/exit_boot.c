/* ExitBootServices, done the way the spec requires: the map key must be the
 * one of the latest GetMemoryMap, and any allocation changes it. So the map
 * buffer is allocated first, with room to spare for the entries that very
 * allocation adds, and a stale key (EFI_INVALID_PARAMETER) is answered by
 * reading the map again into the same buffer: after a failed exit only
 * GetMemoryMap and ExitBootServices may be called. */
#include "efi/memmap_convert.h"
#include "efi/stub.h"

#define EXIT_ATTEMPTS 8
#define SPARE_DESCRIPTORS 32

static void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

void stub_exit_boot_services(EFI_HANDLE image, struct handoff *h)
{
    UINTN map_size = 0, key = 0, desc_size = 0;
    UINT32 desc_version = 0;
    EFI_STATUS st = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, NULL, &key, &desc_size,
                                      &desc_version);
    if (st != EFI_BUFFER_TOO_SMALL || desc_size == 0) {
        stub_notes_print();
        stub_print("hv: GetMemoryMap gave no size (%r); giving up\r\n", st);
        halt_forever();
    }
    UINTN capacity = map_size + SPARE_DESCRIPTORS * desc_size;
    void *map = stub_alloc_pages((capacity + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE);
    if (!map) {
        stub_notes_print();
        stub_print("hv: no memory for the memory map; giving up\r\n");
        halt_forever();
    }

    bool exited = false;
    for (int attempt = 0; attempt < EXIT_ATTEMPTS && !exited; attempt++) {
        map_size = capacity;
        st = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, map, &key, &desc_size, &desc_version);
        if (EFI_ERROR(st))
            break;
        st = uefi_call_wrapper(BS->ExitBootServices, 2, image, key);
        exited = !EFI_ERROR(st);
    }
    if (!exited) {
        /* Console output may already be gone if an attempt half-succeeded,
         * but it is the only channel left to say why we stop. */
        stub_notes_print();
        stub_print("hv: ExitBootServices failed (%r); giving up\r\n", st);
        halt_forever();
    }
    h->mem_count = (uint32_t)efi_memmap_convert(map, map_size, desc_size, h->mem,
                                                HANDOFF_MAX_MEM_RANGES, &h->mem_truncated);
}
