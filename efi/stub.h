/* Internal interfaces of the UEFI stub: the pieces efi_main strings together
 * while boot services exist. Nothing here is visible to the hypervisor core. */
#pragma once

#include <efi.h>
#include <efilib.h>

#include "hv/handoff.h"

/* efi/efi_lib.c: gnu-efi's Print and VSPrint with ASCII formats (%s still
 * takes a CHAR16 string, %a a CHAR8 one). */
UINTN stub_print(const char *fmt, ...);
UINTN stub_vsprint(CHAR16 *str, UINTN str_size, const char *fmt, va_list ap);

/* Loader-data pages anywhere in memory, or NULL: zeroed from byte
 * zero_from on (the caller writes every byte before it: the unpacked core,
 * 29,000 instructions of zeroing fewer; a file read from the ESP), all of
 * them by stub_alloc_pages. */
void *stub_alloc_pages_from(UINTN pages, UINTN zero_from);
#define stub_alloc_pages(pages) stub_alloc_pages_from((pages), 0)
/* gnu-efi's ZeroMem and CopyMem go a byte at a time; the stub moves
 * megabytes (files, the core, page-table pages), so it has its own. */
void stub_zero(void *dst, UINTN bytes);
void stub_copy(void *dst, const void *src, UINTN bytes);

/* efi/notes.c: report lines for hv to log (stub_note: printf-like, one
 * line, no "hv: " and no newline), printed at once before stub_notes_to
 * and by stub_notes_print (before a failure's own line). */
void stub_notes_to(struct handoff *h);
void stub_note(const char *fmt, ...);
void stub_notes_print(void);
/* A failure: the notes, then "hv: LINE"; returns 0 for the caller to pass on. */
uint64_t stub_fail(const char *line);

void stub_collect_firmware_info(EFI_SYSTEM_TABLE *st, struct handoff *h);
/* One line: whether the firmware enforced Secure Boot (efi/secure_boot.c). */
/* Logs whether the firmware enforces Secure Boot; true when it does. */
bool stub_report_secure_boot(void);
void stub_read_esp(EFI_HANDLE image, struct handoff *h);
/* Unpacks and loads the embedded core ELF; returns its entry point or 0 (reason printed). */
uint64_t stub_load_core(struct handoff *h);

/* Boot page tables are built after ExitBootServices from a pool reserved
 * before it, because nothing can be allocated any more by then; its pages
 * are zeroed as they are used (after the exit). */
struct page_pool {
    uint64_t base;
    uint64_t pages;
    uint64_t used;
};
bool stub_reserve_page_pool(struct page_pool *pool, UINTN pages);
uint64_t stub_build_boot_tables(struct page_pool *pool, const struct handoff *h);

/* Disconnects the firmware's drivers from the PCI functions hv does not use
 * and clears their bus mastering (efi/pci_quiesce.c); records it in h->pci. */
void stub_stop_firmware_dma(struct handoff *h);

/* Reserves the boot tables' page pool (sized from the memory map it reads
 * for the exit), exits boot services and fills h->mem; never returns on
 * failure. */
void stub_exit_boot_services(EFI_HANDLE image, struct handoff *h, struct page_pool *pool);

/* efi/enter_core.S: lz_unpack with %rsp at stack_top (16-byte aligned),
 * back on the caller's stack after. The stack's size: the UEFI
 * specification's 128 KiB an image may count on. lz_unpack and
 * build_table nested take ~49,900 bytes (each frame bounded by the
 * Makefile's -Wframe-larger-than=50000 for lz_unpack.c, not their sum);
 * the rest is for what the firmware runs on whatever stack is current: its
 * timer interrupt's saved state and the event notifications it dispatches
 * from there (USB, network, console polling), and nothing guards the
 * pages' end. */
#define STUB_UNPACK_STACK_PAGES 32
__attribute__((sysv_abi)) int stub_unpack_on_stack(const uint8_t *buf, size_t size, uint8_t *out,
                                                   size_t out_size, void *stack_top);

/* efi/enter_core.S */
void stub_enter_core(uint64_t pml4_phys, uint64_t entry, uint64_t arg) __attribute__((noreturn));

/* efi/core_blob.S: the hypervisor core ELF, packed (lib/lz.h) at build time. */
/* efi/efi_lib.c: the protocols the stub opens by GUID. The GUIDs are
 * read-only data; the firmware's prototypes take them as `EFI_GUID *`. */
extern const EFI_GUID stub_loaded_image_guid, stub_pci_io_guid;
#define STUB_GUID(g) ((EFI_GUID *)&(g))

extern const uint8_t hv_core_packed_start[];
extern const uint8_t hv_core_packed_end[];
