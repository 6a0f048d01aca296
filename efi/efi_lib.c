/* The few services of gnu-efi's libefi the stub uses (InitializeLib, printing,
 * pool memory, the boot volume's root, a file's info, the memory map, GUID
 * comparison), with gnu-efi's names and prototypes from <efilib.h>, so that
 * the library itself is not linked: its print, device-path and handle code
 * was 20 KB of BOOTX64.EFI's 40 KB of code, nearly all of it unused.
 * Nothing of gnu-efi is linked, not even crt0: efi_main is the entry point. */
#include "efi/stub.h"

EFI_SYSTEM_TABLE *ST;
EFI_BOOT_SERVICES *BS;
EFI_RUNTIME_SERVICES *RT;

/* Read-only, so in .text's PE section (efi/stub.lds), not in .data's,
 * whose 512-byte steps are the packed core's; the firmware takes them as
 * IN parameters of a non-const type (STUB_GUID, efi/stub.h). */
const EFI_GUID stub_loaded_image_guid = LOADED_IMAGE_PROTOCOL;
const EFI_GUID stub_pci_io_guid = EFI_PCI_IO_PROTOCOL_GUID;
static const EFI_GUID file_system_guid = SIMPLE_FILE_SYSTEM_PROTOCOL;
static const EFI_GUID file_info_guid = EFI_FILE_INFO_ID;

VOID InitializeLib(IN EFI_HANDLE ImageHandle, IN EFI_SYSTEM_TABLE *SystemTable)
{
    (void)ImageHandle;
    ST = SystemTable;
    BS = SystemTable->BootServices;
    RT = SystemTable->RuntimeServices;
}

INTN CompareGuid(IN EFI_GUID *Guid1, IN EFI_GUID *Guid2)
{
    const UINT8 *a = (const UINT8 *)Guid1, *b = (const UINT8 *)Guid2;
    for (UINTN i = 0; i < sizeof(EFI_GUID); i++)
        if (a[i] != b[i])
            return 1;
    return 0;
}

/* Boot-services data, as gnu-efi allocates it: the firmware reclaims it at
 * ExitBootServices, and nothing allocated here is used after that. */
VOID *AllocatePool(IN UINTN Size)
{
    VOID *p = NULL;
    if (EFI_ERROR(uefi_call_wrapper(BS->AllocatePool, 3, EfiBootServicesData, Size, &p)))
        return NULL;
    return p;
}

VOID FreePool(IN VOID *p)
{
    if (p)
        uefi_call_wrapper(BS->FreePool, 1, p);
}

EFI_FILE_HANDLE LibOpenRoot(IN EFI_HANDLE DeviceHandle)
{
    EFI_FILE_IO_INTERFACE *volume = NULL;
    EFI_FILE_HANDLE root = NULL;
    if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, DeviceHandle, STUB_GUID(file_system_guid),
                                    (void **)&volume)) || !volume ||
        EFI_ERROR(uefi_call_wrapper(volume->OpenVolume, 2, volume, &root)))
        return NULL;
    return root;
}

EFI_FILE_INFO *LibFileInfo(IN EFI_FILE_HANDLE FHand)
{
    UINTN size = SIZE_OF_EFI_FILE_INFO + 256;
    for (int attempt = 0; attempt < 4; attempt++) {
        EFI_FILE_INFO *info = AllocatePool(size);
        if (!info)
            return NULL;
        EFI_STATUS st = uefi_call_wrapper(FHand->GetInfo, 4, FHand, STUB_GUID(file_info_guid), &size, info);
        if (!EFI_ERROR(st))
            return info;
        FreePool(info);
        if (st != EFI_BUFFER_TOO_SMALL)
            return NULL;
    }
    return NULL;
}

/* stub_print and stub_vsprint: the conversions the stub's messages use.
 * Their formats are ASCII (CHAR8), not gnu-efi's CHAR16: the stub's messages
 * sit unpacked in hv.efi's .data, where a UTF-16 string costs twice its
 * length. %u and %x
 * take 32 bits and %lu, %lx 64, as in gnu-efi (no %d: no message prints a
 * signed number; it prints as it is written); %s is a CHAR16
 * string, %a a CHAR8 one, %r an EFI_STATUS (in hex: the messages are for a
 * person with the UEFI specification at hand). stub_print's output goes out in
 * chunks through the console's OutputString; stub_vsprint's into a buffer,
 * cut to fit and always NUL-terminated. */
struct out {
    CHAR16 buf[128];
    UINTN n, total;
    CHAR16 *str;  /* stub_vsprint's buffer, or NULL for the console */
    UINTN str_max; /* characters it holds, the NUL included */
};

static void flush(struct out *o)
{
    o->buf[o->n] = 0;
    if (!o->str && o->n && ST && ST->ConOut)
        uefi_call_wrapper(ST->ConOut->OutputString, 2, ST->ConOut, o->buf);
    o->n = 0;
}

static void put(struct out *o, CHAR16 c)
{
    if (o->str) {
        if (o->total + 1 < o->str_max)
            o->str[o->total++] = c;
        return;
    }
    if (o->n == sizeof(o->buf) / sizeof(o->buf[0]) - 1)
        flush(o);
    o->buf[o->n++] = c;
    o->total++;
}

static void put_number(struct out *o, UINT64 v, unsigned base)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (n)
        put(o, (CHAR16)digits[--n]);
}

static void format(struct out *o, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(o, (CHAR16)(unsigned char)*fmt);
            continue;
        }
        bool wide = false;
        if (fmt[1] == 'l') {
            wide = true;
            fmt++;
        }
        switch (*++fmt) {
        case 'u':
            put_number(o, wide ? va_arg(ap, UINT64) : va_arg(ap, UINT32), 10);
            break;
        case 'x':
            put_number(o, wide ? va_arg(ap, UINT64) : va_arg(ap, UINT32), 16);
            break;
        case 'r':
            put(o, '0');
            put(o, 'x');
            put_number(o, va_arg(ap, EFI_STATUS), 16);
            break;
        case 's': {
            const CHAR16 *s = va_arg(ap, const CHAR16 *);
            while (s && *s)
                put(o, *s++);
            break;
        }
        case 'a': {
            const CHAR8 *s = va_arg(ap, const CHAR8 *);
            while (s && *s)
                put(o, *s++);
            break;
        }
        case '%':
            put(o, '%');
            break;
        case 0:
            fmt--; /* a '%' at the end: print it, stop at the NUL */
            put(o, '%');
            break;
        default:
            put(o, '%');
            put(o, (CHAR16)(unsigned char)*fmt);
        }
    }
}

UINTN stub_print(const char *fmt, ...)
{
    struct out o = {.n = 0, .total = 0, .str = NULL};
    va_list ap;
    va_start(ap, fmt);
    format(&o, fmt, ap);
    va_end(ap);
    flush(&o);
    return o.total;
}

/* As gnu-efi's VSPrint: str_size is in bytes. Returns the characters
 * stored, the NUL not counted. */
UINTN stub_vsprint(CHAR16 *str, UINTN str_size, const char *fmt, va_list ap)
{
    UINTN max = str_size / sizeof(CHAR16);
    if (!str || !max)
        return 0;
    struct out o = {.n = 0, .total = 0, .str = str, .str_max = max};
    format(&o, fmt, ap);
    str[o.total] = 0;
    return o.total;
}
