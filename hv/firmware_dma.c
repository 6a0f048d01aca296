/* The stub stopped the firmware's PCI drivers before ExitBootServices and
 * wrote down what it did (efi/pci_quiesce.c); here that becomes one log
 * line naming the functions that were active (hv/firmware_dma_text.c), the
 * details of each at debug level, and a warning if one still masters the
 * bus (its DMA could reach guest memory). One line: every line on a full
 * screen costs a scroll, and the boot header is already long. */
#include "hv/firmware_dma.h"

#include "hv/console/log.h"
#include "hv/firmware_dma_text.h"
#include "lib/pci_class.h"

void firmware_dma_report(const struct handoff *h)
{
    const struct handoff_pci *pci = &h->pci;
    if (pci->left_running) {
        log_warn("dma: firmware devices left running (stop_firmware_dma = no): their DMA may "
                 "reach guests");
        return;
    }
    if (!pci->enumerated) {
        log_info("dma: the firmware listed no PCI functions; none stopped");
        return;
    }
    char line[224];
    firmware_dma_summary(line, sizeof(line), pci);
    log_info("dma: %s", line);
    uint32_t recorded = pci->recorded < HANDOFF_MAX_PCI_FUNCTIONS ? pci->recorded
                                                                 : HANDOFF_MAX_PCI_FUNCTIONS;
    for (uint32_t i = 0; i < recorded; i++) {
        const struct handoff_pci_function *f = &pci->functions[i];
        log_debug("dma:   %04x:%02x:%02x.%x %04x:%04x %s (class %06x): action %u, firmware "
                  "driver %s, bus master %s -> %s", f->segment, f->bus, f->device, f->function,
                  f->vendor_id, f->device_id, pci_class_name(f->class_code), f->class_code,
                  f->action, !f->had_driver ? "none" : f->disconnected ? "disconnected" : "connected",
                  f->bus_master_was_on ? "on" : "off", f->bus_master_on ? "on" : "off");
    }
    if (pci->still_mastering)
        log_warn("dma: %u function(s) still bus masters after a clear: their DMA may reach "
                 "guests", pci->still_mastering);
}
