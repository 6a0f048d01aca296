/* The stub stopped the firmware's PCI drivers before ExitBootServices and
 * wrote down what it did; here that becomes log lines, one summary and one
 * per function that was active (a firmware driver had it, or it was
 * mastering the bus), so a real PC's screen says which controllers were stopped
 * and whether any still masters the bus (a warning: its DMA could reach
 * guest memory). */
#include "hv/firmware_dma.h"

#include "hv/console/log.h"
#include "lib/pci_class.h"

static const char *outcome(const struct handoff_pci_function *f)
{
    if (f->bus_master_on)
        return "bus master STILL ON";
    if (!f->had_driver) /* listed only because it was mastering */
        return "no firmware driver, bus master cleared";
    if (!f->disconnected)
        return "firmware driver would not disconnect, bus master cleared";
    return f->bus_master_was_on ? "firmware driver disconnected, bus master cleared"
                                : "firmware driver disconnected, bus master off";
}

void firmware_dma_report(const struct handoff *h)
{
    const struct handoff_pci *pci = &h->pci;
    if (pci->left_running) {
        log_warn("dma: firmware devices left running as hv.cfg asks (stop_firmware_dma = no): "
                 "their DMA may reach guest memory");
        return;
    }
    if (!pci->enumerated) {
        log_info("dma: the firmware listed no PCI functions; none stopped");
        return;
    }
    log_info("dma: %u PCI function(s) at hand-over: %u stopped (%u of them idle), kept %u "
             "display(s) and %u bridge(s)", pci->count, pci->stopped, pci->idle, pci->kept_display,
             pci->kept_bridge);
    /* The functions that were doing something: a firmware driver had them
     * or they were mastering the bus. Idle ones are only counted. */
    uint32_t recorded = pci->recorded < HANDOFF_MAX_PCI_FUNCTIONS ? pci->recorded
                                                                 : HANDOFF_MAX_PCI_FUNCTIONS;
    for (uint32_t i = 0; i < recorded; i++) {
        const struct handoff_pci_function *f = &pci->functions[i];
        if (f->action != PCI_DMA_STOP ||
            (!f->had_driver && !f->bus_master_was_on && !f->bus_master_on))
            continue;
        log_info("dma:   %04x:%02x:%02x.%x %04x:%04x %s (class %06x): %s", f->segment, f->bus,
                 f->device, f->function, f->vendor_id, f->device_id,
                 pci_class_name(f->class_code), f->class_code, outcome(f));
    }
    if (pci->count > recorded)
        log_info("dma: %u more function(s) not listed", pci->count - recorded);
    if (pci->still_mastering)
        log_warn("dma: %u function(s) kept bus mastering after it was cleared: their DMA "
                 "may reach guest memory", pci->still_mastering);
}
