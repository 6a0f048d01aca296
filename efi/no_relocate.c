/* gnu-efi's crt0 calls _relocate(ImageBase, _DYNAMIC, image, systab)
 * before efi_main, for libgnuefi to apply the stub's relocations where the
 * firmware loaded it. The stub has none (no pointer stored in its data, no
 * GOT entry: tools/check_stub_relocs.py fails the build if one appears), so
 * this one does nothing, libgnuefi is not linked, and the dynamic entries
 * it would walk stay out of hv.efi (efi/stub.lds). */
#include <efi.h>

EFI_STATUS _relocate(long image_base, void *dynamic, EFI_HANDLE image, EFI_SYSTEM_TABLE *systab);

EFI_STATUS _relocate(long image_base, void *dynamic, EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    (void)image_base, (void)dynamic, (void)image, (void)systab;
    return EFI_SUCCESS;
}
