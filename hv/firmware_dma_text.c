/* See hv/firmware_dma_text.h. */
#include "hv/firmware_dma_text.h"

#include "lib/fmt.h"
#include "lib/pci_class.h"

bool firmware_dma_active(const struct handoff_pci_function *f)
{
    bool acted_on = f->action == PCI_DMA_STOP || f->action == PCI_DMA_CLEAR_MASTER;
    return acted_on && (f->had_driver || f->bus_master_was_on || f->bus_master_on);
}

const char *firmware_dma_outcome(const struct handoff_pci_function *f)
{
    if (f->bus_master_on)
        return "STILL MASTERING";
    if (f->action == PCI_DMA_STOP && f->had_driver)
        return f->disconnected ? "disconnected" : "not disconnected, bus master cleared";
    return f->bus_master_was_on ? "bus master cleared" : "bus master off";
}

/* Appends to buf at *len (bounded); false, and nothing appended, if the
 * text would not fit with `reserve` characters still free after it. */
static bool append(char *buf, size_t size, size_t *len, size_t reserve, const char *text)
{
    size_t n = 0;
    while (text[n])
        n++;
    if (*len + n + reserve >= size)
        return false;
    for (size_t i = 0; i < n; i++)
        buf[*len + i] = text[i];
    *len += n;
    buf[*len] = '\0';
    return true;
}

/* Room kept for ", and N more" and the closing counts. */
#define TAIL_RESERVE 64

void firmware_dma_summary(char *buf, size_t size, const struct handoff_pci *pci)
{
    if (size == 0)
        return;
    buf[0] = '\0';
    size_t len = fmt_format(buf, size, "stopped %u of %u PCI function(s)", pci->stopped, pci->count);
    if (len >= size)
        return;
    uint32_t recorded = pci->recorded < HANDOFF_MAX_PCI_FUNCTIONS ? pci->recorded
                                                                 : HANDOFF_MAX_PCI_FUNCTIONS;
    uint32_t named = 0, left_out = 0;
    for (uint32_t i = 0; i < recorded; i++) {
        const struct handoff_pci_function *f = &pci->functions[i];
        if (!firmware_dma_active(f))
            continue;
        char item[96];
        if (f->segment)
            fmt_format(item, sizeof(item), "%s%s at %04x:%02x:%02x.%x (%s)", named ? ", " : ": ",
                       pci_class_name(f->class_code), f->segment, f->bus, f->device, f->function,
                       firmware_dma_outcome(f));
        else
            fmt_format(item, sizeof(item), "%s%s at %02x:%02x.%x (%s)", named ? ", " : ": ",
                       pci_class_name(f->class_code), f->bus, f->device, f->function,
                       firmware_dma_outcome(f));
        if (left_out == 0 && append(buf, size, &len, TAIL_RESERVE, item))
            named++;
        else
            left_out++;
    }
    char tail[TAIL_RESERVE];
    uint32_t idle = pci->idle <= pci->stopped ? pci->idle : pci->stopped;
    if (left_out)
        fmt_format(tail, sizeof(tail), ", and %u more; %u idle; kept %u display(s), %u bridge(s)",
                   left_out, idle, pci->kept_display, pci->kept_bridge);
    else
        fmt_format(tail, sizeof(tail), "; %u idle; kept %u display(s), %u bridge(s)", idle,
                   pci->kept_display, pci->kept_bridge);
    append(buf, size, &len, 0, tail);
}
