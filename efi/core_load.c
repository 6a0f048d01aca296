/* Unpacks the embedded core ELF and places it in memory. The core is our own
 * build output, but it is still checked: a corrupt build must stop here with
 * a message, not jump into garbage. */
#include "efi/stub.h"
#include "lib/branch_filter.h"
#include "lib/elf64.h"
#include "lib/lz.h"

static bool span_of_segments(const Elf64_Ehdr *eh, size_t file_size, uint64_t *lo, uint64_t *hi)
{
    *lo = ~0ULL;
    *hi = 0;
    for (uint16_t i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)((const uint8_t *)eh + eh->e_phoff +
                                                    (uint64_t)i * eh->e_phentsize);
        if (ph->p_type != PT_LOAD)
            continue;
        if (ph->p_filesz > ph->p_memsz || ph->p_offset > file_size ||
            ph->p_filesz > file_size - ph->p_offset || ph->p_vaddr < HV_CORE_BASE ||
            ph->p_memsz > ~0ULL - ph->p_vaddr)
            return false;
        if (ph->p_vaddr < *lo)
            *lo = ph->p_vaddr;
        if (ph->p_vaddr + ph->p_memsz > *hi)
            *hi = ph->p_vaddr + ph->p_memsz;
    }
    return *lo == HV_CORE_BASE && *hi > *lo;
}

uint64_t stub_load_core(struct handoff *h)
{
    const uint8_t *packed = hv_core_packed_start;
    size_t packed_size = (size_t)(hv_core_packed_end - hv_core_packed_start);
    int64_t unpacked = lz_unpacked_size(packed, packed_size);
    if (unpacked <= 0)
        return stub_fail("the embedded core image is malformed; rebuild hv");
    /* The ELF file is unpacked into pages of its own, which the core keeps:
     * the stub's image becomes free memory once the core runs, and the
     * symbol table for stack traces lives in that file. */
    size_t size = (size_t)unpacked;
    uint8_t *elf = stub_alloc_pages_from((size + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE, size);
    if (!elf)
        return stub_fail("no memory to load the core");
    /* The decoder's frame (its tables: 48 KiB) on a stack of its own, not
     * on the firmware's: a chain-loaded hv.efi runs on its loader's stack,
     * and the stub has no stack probes (efi/stub.h says what
     * STUB_UNPACK_STACK_PAGES leaves room for; the decoder's code is the
     * host's, byte for byte). Boot-services data, left to the firmware's
     * exit (then free memory for hv, like the rest of it): OVMF's FreePages
     * cost the boot ~200,000 instructions. Not zeroed: the decoder writes
     * its tables whole before it reads them. */
    EFI_PHYSICAL_ADDRESS stack = 0;
    if (EFI_ERROR(uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiBootServicesData,
                                   STUB_UNPACK_STACK_PAGES, &stack)))
        return stub_fail("no memory for the unpacker's stack (128 KiB)");
    int bad = stub_unpack_on_stack(packed, packed_size, elf, size,
                                   (void *)(UINTN)(stack + STUB_UNPACK_STACK_PAGES * EFI_PAGE_SIZE));
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)elf;
    uint64_t lo, hi;

    if (bad || size < sizeof(*eh) || eh->e_ident[0] != 0x7f || eh->e_ident[1] != 'E' ||
        eh->e_ident[2] != 'L' || eh->e_ident[3] != 'F' || eh->e_ident[4] != ELFCLASS64 ||
        eh->e_machine != EM_X86_64 || eh->e_phentsize != sizeof(Elf64_Phdr) ||
        eh->e_phoff > size || (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > size - eh->e_phoff ||
        !span_of_segments(eh, size, &lo, &hi) || eh->e_entry < lo || eh->e_entry >= hi)
        return stub_fail("the embedded core image is malformed; rebuild hv");

    UINTN pages = (hi - lo + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE;
    uint8_t *image = stub_alloc_pages(pages); /* zeroed: that is the .bss */
    if (!image)
        return stub_fail("no memory to load the core");
    for (uint16_t i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(elf + eh->e_phoff + (uint64_t)i * sizeof(Elf64_Phdr));
        if (ph->p_type != PT_LOAD)
            continue;
        /* The calls and jumps back to displacements (lib/branch_filter.h),
         * in the file too: the core reads its symbols, not its code, there. */
        if (ph->p_flags & PF_X)
            branch_filter_decode(elf + ph->p_offset, ph->p_filesz);
        stub_copy(image + (ph->p_vaddr - lo), elf + ph->p_offset, ph->p_filesz);
    }

    h->core_phys = (uint64_t)image;
    h->core_size = pages * EFI_PAGE_SIZE;
    h->core_elf_phys = (uint64_t)elf;
    h->core_elf_size = size;
    return eh->e_entry;
}
