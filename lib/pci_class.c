/* See lib/pci_class.h. Class codes: PCI Code and ID Assignment Specification. */
#include "lib/pci_class.h"

#include <stddef.h>

#define CLASS_OF(c) (((c) >> 16) & 0xff)
#define SUBCLASS_OF(c) (((c) >> 8) & 0xff)

#define CLASS_STORAGE 0x01
#define CLASS_DISPLAY 0x03
#define CLASS_BRIDGE 0x06

enum pci_dma_action pci_dma_action(uint32_t class_code)
{
    switch (CLASS_OF(class_code)) {
    case CLASS_STORAGE:
        return PCI_DMA_CLEAR_MASTER;
    case CLASS_DISPLAY:
        return PCI_DMA_KEEP_DISPLAY;
    case CLASS_BRIDGE:
        return PCI_DMA_KEEP_BRIDGE;
    default:
        return PCI_DMA_STOP;
    }
}

/* Matched in order: the first entry whose masked bits equal `value` names
 * the function, so exact (programming interface) entries come before their
 * subclass, and subclasses before their class. */
struct class_name {
    uint32_t ignored : 8; /* low bytes of the class code that do not count */
    uint32_t value : 24;
    char name[18];        /* characters, not pointers: they pack smaller */
};

#define PROG_IF 0
#define SUBCLASS 1
#define CLASS 2

static const struct class_name names[] = {
    {PROG_IF, 0x0c0330, "USB xHCI"},
    {PROG_IF, 0x0c0320, "USB EHCI"},
    {PROG_IF, 0x0c0310, "USB OHCI"},
    {PROG_IF, 0x0c0300, "USB UHCI"},
    {SUBCLASS, 0x0c0300, "USB"},
    {SUBCLASS, 0x0c0500, "SMBus"},
    {SUBCLASS, 0x0c0000, "FireWire"},
    {SUBCLASS, 0x0c8000, "serial bus"},
    {PROG_IF, 0x010601, "SATA (AHCI)"},
    {SUBCLASS, 0x010600, "SATA"},
    {SUBCLASS, 0x010800, "NVMe"},
    {SUBCLASS, 0x010100, "IDE"},
    {SUBCLASS, 0x010000, "SCSI"},
    {SUBCLASS, 0x010700, "SAS"},
    {SUBCLASS, 0x010400, "RAID"},
    {CLASS, 0x010000, "storage"},
    {SUBCLASS, 0x020000, "Ethernet"},
    {SUBCLASS, 0x028000, "network"},
    {CLASS, 0x020000, "network"},
    {SUBCLASS, 0x030000, "VGA display"},
    {CLASS, 0x030000, "display"},
    {SUBCLASS, 0x040300, "audio"},
    {CLASS, 0x040000, "multimedia"},
    {CLASS, 0x050000, "memory controller"},
    {SUBCLASS, 0x060000, "host bridge"},
    {SUBCLASS, 0x060100, "ISA bridge"},
    {SUBCLASS, 0x060400, "PCI bridge"},
    {CLASS, 0x060000, "bridge"},
    {SUBCLASS, 0x070000, "serial port"},
    {CLASS, 0x070000, "communication"},
    {CLASS, 0x080000, "system peripheral"},
    {CLASS, 0x0c0000, "serial bus"},
    {SUBCLASS, 0x0d1100, "Bluetooth"},
    {CLASS, 0x0d0000, "wireless"},
    {CLASS, 0x100000, "encryption"},
    {CLASS, 0x110000, "signal processing"},
};

const char *pci_class_name(uint32_t class_code)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if ((class_code & (0xffffffu << 8 * names[i].ignored) & 0xffffff) == names[i].value)
            return names[i].name;
    return "other";
}
