/* PCI functions the firmware left running: which ones the UEFI stub stops
 * before ExitBootServices (efi/pci_quiesce.c) and the names hv prints for
 * them (hv/firmware_dma.c). Pure logic, shared by both and unit-tested.
 *
 * class_code is the 24-bit value of config-space bytes 0x09..0x0b:
 * base class << 16 | subclass << 8 | programming interface. */
#pragma once

#include <stdint.h>

#define PCI_CONFIG_ID 0x00      /* vendor (low 16 bits), device (high) */
#define PCI_CONFIG_COMMAND 0x04 /* 16 bits */
#define PCI_CONFIG_CLASS 0x08   /* revision (low 8 bits), class_code above it */
#define PCI_COMMAND_BUS_MASTER 0x0004

enum pci_dma_action {
    /* Disconnect the firmware's driver and clear Bus Master Enable: the
     * controllers that DMA on their own (USB schedules and event rings,
     * network receive rings, anything hv does not know). */
    PCI_DMA_STOP = 0,
    /* Clear Bus Master Enable, leave the driver connected: mass storage
     * (class 01: AHCI, NVMe, IDE, SCSI) moves data only for commands its
     * driver issues, and none are issued after ExitBootServices; with bus
     * mastering off not even an unsolicited FIS can land in memory. Its
     * driver's Stop() is the slow one (OVMF's AHCI: ~11 M instructions,
     * as long as the rest of the boot to the first guest). */
    PCI_DMA_CLEAR_MASTER,
    /* The screen hv draws on: its framebuffer may be scanned out by the
     * device's own DMA (integrated graphics read system memory), so it is
     * left exactly as the firmware set it. */
    PCI_DMA_KEEP_DISPLAY,
    /* Host, ISA/LPC and PCI-to-PCI bridges: they do no DMA of their own,
     * the path to the display may run through them, and the LPC bridge
     * carries the legacy serial port hv logs to. Every function behind a
     * bridge is stopped on its own. */
    PCI_DMA_KEEP_BRIDGE,
};

enum pci_dma_action pci_dma_action(uint32_t class_code);

/* "USB xHCI", "SATA (AHCI)", "Ethernet", ...; never NULL ("other" when the
 * class is not one hv knows by name). */
const char *pci_class_name(uint32_t class_code);

/* The command register with Bus Master Enable cleared and every other bit
 * (I/O and memory decode, INTx disable) as it was. */
static inline uint16_t pci_command_without_bus_master(uint16_t command)
{
    return (uint16_t)(command & ~PCI_COMMAND_BUS_MASTER);
}
