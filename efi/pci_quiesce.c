/* Devices the firmware left running. The firmware's USB, storage and network
 * drivers keep DMA rings in boot-services memory, which hv hands to guests
 * after ExitBootServices; a controller still walking its ring would then
 * read and write guest memory. UEFI asks every driver to stop its DMA at
 * ExitBootServices, but not all do, so before exiting the stub
 *
 *   1. disconnects the firmware's drivers from every PCI function except
 *      the display, bridges and mass storage (lib/pci_class.h says why
 *      those stay connected): a driver's Stop() halts its controller and
 *      frees its rings the way only it knows how; then
 *   2. clears Bus Master Enable in the command register of each of those
 *      functions and of mass-storage ones, so one whose driver did not stop
 *      it (or that had no driver but was left mastering) can no longer
 *      reach memory at all, and reads the register back.
 *
 * Linux's EFI stub (efi_pci_disable_bridge_busmaster, under the
 * disable_early_pci_dma option) and NOVA disconnect functions off bus 0 and
 * clear bus mastering on PCI-to-PCI bridges only, which leaves integrated
 * bus-0 controllers (a laptop's xHCI, AHCI, NIC; QEMU's xHCI) running until
 * their own ExitBootServices handlers act. hv uses no PCI function (its
 * console is the framebuffer and COM1, its timers the HPET, PM timer and
 * LAPIC), so it stops every endpoint on every bus instead. What was done is
 * recorded in h->pci and logged by hv (hv/firmware_dma.c). */
#include "efi/stub.h"
#include "hv/config/config.h"
#include "lib/pci_class.h"

/* hv.cfg's `[hv] stop_firmware_dma = no` leaves the firmware's devices as
 * they are: a way out on a PC whose firmware misbehaves when its drivers are
 * disconnected. The stub reads only this key, with hv's own parser; hv
 * checks the whole file again (hv/config/settings.c). As there, settings
 * before a bad line stay in force. */
static bool same(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static const char *read_switch(void *arg, const char *section, const char *section_arg,
                               const char *key, const char *value)
{
    if (!same(section, "hv") || section_arg[0] || !same(key, "stop_firmware_dma"))
        return NULL;
    return cfg_parse_bool(value, arg) ? NULL : "must be yes or no";
}

static bool wanted(const struct handoff *h)
{
    bool stop = true;
    if (h->config_phys && !h->config_too_large)
        cfg_parse((const char *)h->config_phys, h->config_size, read_switch, &stop, NULL);
    return stop;
}

static bool driver_has_it_open(EFI_HANDLE handle)
{
    EFI_OPEN_PROTOCOL_INFORMATION_ENTRY *entries = NULL;
    UINTN count = 0;
    if (EFI_ERROR(uefi_call_wrapper(BS->OpenProtocolInformation, 4, handle, STUB_GUID(stub_pci_io_guid),
                                    &entries, &count)) || !entries)
        return false;
    bool by_driver = false;
    for (UINTN i = 0; i < count; i++)
        if (entries[i].Attributes & EFI_OPEN_PROTOCOL_BY_DRIVER)
            by_driver = true;
    FreePool(entries);
    return by_driver;
}

static bool config_read(EFI_PCI_IO_PROTOCOL *io, EFI_PCI_IO_PROTOCOL_WIDTH width, UINT32 offset,
                        void *value)
{
    return !EFI_ERROR(uefi_call_wrapper(io->Pci.Read, 5, io, width, offset, 1, value));
}

/* Fills *f from config space and acts on it; false if the function cannot
 * be read at all (then it is left alone and not recorded). */
static bool quiesce_one(EFI_HANDLE handle, struct handoff_pci_function *f)
{
    EFI_PCI_IO_PROTOCOL *io = NULL;
    if (EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, handle, STUB_GUID(stub_pci_io_guid), (void **)&io)) ||
        !io)
        return false;
    UINTN seg = 0, bus = 0, dev = 0, fn = 0;
    UINT32 id = 0, class_rev = 0;
    UINT16 command = 0;
    if (EFI_ERROR(uefi_call_wrapper(io->GetLocation, 5, io, &seg, &bus, &dev, &fn)) ||
        !config_read(io, EfiPciIoWidthUint32, PCI_CONFIG_ID, &id) || id == 0xffffffff ||
        !config_read(io, EfiPciIoWidthUint32, PCI_CONFIG_CLASS, &class_rev) ||
        !config_read(io, EfiPciIoWidthUint16, PCI_CONFIG_COMMAND, &command))
        return false;
    f->segment = (uint16_t)seg;
    f->bus = (uint8_t)bus;
    f->device = (uint8_t)dev;
    f->function = (uint8_t)fn;
    f->vendor_id = (uint16_t)id;
    f->device_id = (uint16_t)(id >> 16);
    f->class_code = class_rev >> 8;
    f->action = (uint8_t)pci_dma_action(f->class_code);
    f->had_driver = driver_has_it_open(handle);
    f->bus_master_was_on = command & PCI_COMMAND_BUS_MASTER;
    f->bus_master_on = f->bus_master_was_on;
    if (f->action != PCI_DMA_STOP && f->action != PCI_DMA_CLEAR_MASTER)
        return true;

    /* Disconnecting also tears down the children (a USB bus, the stick on
     * it, its file system): the ESP was read before this, nothing else here
     * needs them. */
    if (f->action == PCI_DMA_STOP)
        f->disconnected =
            !EFI_ERROR(uefi_call_wrapper(BS->DisconnectController, 3, handle, NULL, NULL));
    /* Only Bus Master Enable goes: decode bits are written back as they
     * were before the driver's Stop(), so a port the firmware had decoding
     * (a PCI UART at a legacy address, say) stays where it was. */
    UINT16 stopped = pci_command_without_bus_master(command);
    uefi_call_wrapper(io->Pci.Write, 5, io, EfiPciIoWidthUint16, PCI_CONFIG_COMMAND, 1, &stopped);
    UINT16 after = PCI_COMMAND_BUS_MASTER;
    if (config_read(io, EfiPciIoWidthUint16, PCI_CONFIG_COMMAND, &after))
        f->bus_master_on = after & PCI_COMMAND_BUS_MASTER;
    return true;
}

void stub_stop_firmware_dma(struct handoff *h)
{
    struct handoff_pci *pci = &h->pci;
    if (!wanted(h)) {
        pci->left_running = true;
        stub_note("firmware devices left running (hv.cfg: stop_firmware_dma = no)");
        return;
    }
    EFI_HANDLE *handles = NULL;
    UINTN count = 0;
    EFI_STATUS st = uefi_call_wrapper(BS->LocateHandleBuffer, 5, ByProtocol, STUB_GUID(stub_pci_io_guid), NULL,
                                      &count, &handles);
    if (EFI_ERROR(st) || !handles) {
        /* EFI_NOT_FOUND: a machine without PCI, or firmware that does not
         * publish PCI I/O; nothing to stop either way. */
        stub_note("no PCI I/O handles (%r): no devices stopped", st);
        return;
    }
    pci->enumerated = true;
    for (UINTN i = 0; i < count; i++) {
        struct handoff_pci_function f = {0};
        if (!quiesce_one(handles[i], &f))
            continue;
        pci->count++;
        pci->kept_display += f.action == PCI_DMA_KEEP_DISPLAY;
        pci->kept_bridge += f.action == PCI_DMA_KEEP_BRIDGE;
        if (f.action == PCI_DMA_STOP || f.action == PCI_DMA_CLEAR_MASTER) {
            pci->stopped++;
            pci->idle += !f.had_driver && !f.bus_master_was_on;
            pci->still_mastering += f.bus_master_on;
        }
        if (pci->recorded < HANDOFF_MAX_PCI_FUNCTIONS)
            pci->functions[pci->recorded++] = f;
    }
    FreePool(handles);
    /* hv reports the rest once it runs (hv/firmware_dma.c). */
    if (pci->still_mastering)
        stub_note("%u function(s) still bus mastering", pci->still_mastering);
}
