/* efi_main: the only code that runs in the UEFI world. It gathers what the
 * hypervisor needs while firmware services exist, exits boot services and
 * jumps to the core with one plain struct. Data flows one way: nothing here
 * is called back once the core runs. */
#include "efi/stub.h"

static inline uint64_t read_tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

void stub_zero(void *dst, UINTN bytes)
{
    UINTN words = bytes / 8, rest = bytes % 8;
    __asm__ volatile("rep stosq" : "+D"(dst), "+c"(words) : "a"(0ull) : "memory");
    __asm__ volatile("rep stosb" : "+D"(dst), "+c"(rest) : "a"(0) : "memory");
}

void stub_copy(void *dst, const void *src, UINTN bytes)
{
    UINTN words = bytes / 8, rest = bytes % 8;
    __asm__ volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(words) : : "memory");
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(rest) : : "memory");
}

void *stub_alloc_pages_from(UINTN pages, UINTN zero_from)
{
    EFI_PHYSICAL_ADDRESS addr = 0;
    EFI_STATUS st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData,
                                      pages, &addr);
    if (EFI_ERROR(st))
        return NULL;
    stub_zero((uint8_t *)addr + zero_from, pages * EFI_PAGE_SIZE - zero_from);
    return (void *)addr;
}

/* The PE entry point (efi/stub.lds): the firmware calls it directly, with
 * its calling convention (EFIAPI; the whole stub is built -mabi=ms). */
EFI_STATUS EFIAPI efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st);
EFI_STATUS EFIAPI efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
    uint64_t entry_tsc = read_tsc();
    InitializeLib(image, st);

    struct handoff *h = stub_alloc_pages((sizeof(*h) + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE);
    if (!h) {
        stub_print("hv: no memory for the handoff block; giving up\r\n");
        return EFI_OUT_OF_RESOURCES;
    }
    h->magic = HANDOFF_MAGIC;
    h->version = HANDOFF_VERSION;
    h->struct_size = sizeof(*h);
    h->boot_tsc = entry_tsc;
    stub_notes_to(h);

    EFI_LOADED_IMAGE *loaded = NULL;
    if (!EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image, STUB_GUID(stub_loaded_image_guid),
                                     (void **)&loaded)) && loaded) {
        h->efi_image_base = (uint64_t)loaded->ImageBase;
        /* efi/stub.lds names .text's start: where it is, the address gdb's
         * add-symbol-file wants, found RIP-relative (not from `ImageBase`:
         * an absolute symbol, reached through a GOT entry, the one
         * relocation that would need a .rela section, 512 bytes of hv.efi). */
        extern char _text[];
        stub_note("stub loaded at 0x%lx (gdb: add-symbol-file build/hv.efi.debug 0x%lx)",
                  h->efi_image_base, (uint64_t)_text);
    }

    h->secure_boot = stub_report_secure_boot();
    stub_collect_firmware_info(st, h);
    stub_read_esp(image, h);

    uint64_t entry = stub_load_core(h);
    if (!entry)
        return EFI_LOAD_ERROR;

    /* Last before exiting: disconnected drivers take their consoles and
     * disks with them. */
    stub_stop_firmware_dma(h);
    struct page_pool pool;
    stub_exit_boot_services(image, h, &pool);
    h->exit_boot_tsc = read_tsc();

    /* From here on no firmware service may be called and nothing printed. */
    uint64_t pml4 = stub_build_boot_tables(&pool, h);
    if (!pml4) {
        /* Nothing can report this any more; stop where a debugger finds us. */
        for (;;)
            __asm__ volatile("cli; hlt");
    }
    h->boot_pml4_phys = pml4;
    stub_enter_core(pml4, entry, (uint64_t)h + HV_DIRECT_MAP_BASE);
}
