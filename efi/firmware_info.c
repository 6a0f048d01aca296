/* Facts only the firmware knows: framebuffer, ACPI root, wall clock, and the
 * runtime services table hv uses to power off. */
#include "efi/stub.h"

static void collect_framebuffer(struct handoff *h)
{
    EFI_GUID gop_guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
    EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;
    if (EFI_ERROR(uefi_call_wrapper(BS->LocateProtocol, 3, &gop_guid, NULL, (void **)&gop)) ||
        !gop || !gop->Mode || !gop->Mode->Info) {
        stub_note("no graphics output: serial log only");
        return;
    }
    EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = gop->Mode->Info;
    struct handoff_framebuffer *fb = &h->fb;
    switch (info->PixelFormat) {
    case PixelRedGreenBlueReserved8BitPerColor:
        fb->format = HANDOFF_FB_RGBX;
        break;
    case PixelBlueGreenRedReserved8BitPerColor:
        fb->format = HANDOFF_FB_BGRX;
        break;
    case PixelBitMask:
        fb->format = HANDOFF_FB_BITMASK;
        fb->red_mask = info->PixelInformation.RedMask;
        fb->green_mask = info->PixelInformation.GreenMask;
        fb->blue_mask = info->PixelInformation.BlueMask;
        break;
    default:
        /* PixelBltOnly: no linear framebuffer to draw into after exit. */
        stub_note("no linear framebuffer: serial log only");
        return;
    }
    fb->phys = gop->Mode->FrameBufferBase;
    fb->size = gop->Mode->FrameBufferSize;
    fb->width = info->HorizontalResolution;
    fb->height = info->VerticalResolution;
    fb->pixels_per_line = info->PixelsPerScanLine;
    stub_note("framebuffer %ux%u at 0x%lx", fb->width, fb->height, fb->phys);
}

static void collect_rsdp(EFI_SYSTEM_TABLE *st, struct handoff *h)
{
    EFI_GUID acpi20 = ACPI_20_TABLE_GUID;
    EFI_GUID acpi10 = ACPI_TABLE_GUID;
    uint64_t v1 = 0;
    for (UINTN i = 0; i < st->NumberOfTableEntries; i++) {
        EFI_CONFIGURATION_TABLE *t = &st->ConfigurationTable[i];
        if (CompareGuid(&t->VendorGuid, &acpi20) == 0) {
            h->rsdp_phys = (uint64_t)t->VendorTable;
            return;
        }
        if (CompareGuid(&t->VendorGuid, &acpi10) == 0)
            v1 = (uint64_t)t->VendorTable;
    }
    h->rsdp_phys = v1;
    if (!v1)
        stub_note("no ACPI tables from the firmware");
}

static void collect_time(EFI_SYSTEM_TABLE *st, struct handoff *h)
{
    EFI_TIME t;
    if (EFI_ERROR(uefi_call_wrapper(st->RuntimeServices->GetTime, 2, &t, NULL))) {
        stub_note("firmware clock unreadable");
        return;
    }
    h->boot_time.valid = true;
    h->boot_time.year = t.Year;
    h->boot_time.month = t.Month;
    h->boot_time.day = t.Day;
    h->boot_time.hour = t.Hour;
    h->boot_time.minute = t.Minute;
    h->boot_time.second = t.Second;
    h->boot_time.nanosecond = t.Nanosecond;
    h->boot_time.utc_offset_minutes = t.TimeZone;
}

void stub_collect_firmware_info(EFI_SYSTEM_TABLE *st, struct handoff *h)
{
    h->efi_reset_system = (uint64_t)st->RuntimeServices->ResetSystem;
    collect_framebuffer(h);
    collect_rsdp(st, h);
    collect_time(st, h);
}
