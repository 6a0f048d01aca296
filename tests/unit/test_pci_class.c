/* Which PCI functions the UEFI stub stops and how hv names them (lib/pci_class.c). */
#include "check.h"
#include "lib/pci_class.h"

static void stops_every_endpoint(void)
{
    CHECK_EQ_U64(pci_dma_action(0x0c0330), PCI_DMA_STOP); /* xHCI */
    CHECK_EQ_U64(pci_dma_action(0x020000), PCI_DMA_STOP); /* Ethernet */
    CHECK_EQ_U64(pci_dma_action(0x040300), PCI_DMA_STOP); /* a GPU's audio function */
    CHECK_EQ_U64(pci_dma_action(0x070002), PCI_DMA_STOP); /* PCI serial card */
    CHECK_EQ_U64(pci_dma_action(0x000000), PCI_DMA_STOP); /* pre-2.0 device, class unknown */
    CHECK_EQ_U64(pci_dma_action(0xff0000), PCI_DMA_STOP);
}

static void storage_only_loses_bus_mastering(void)
{
    CHECK_EQ_U64(pci_dma_action(0x010601), PCI_DMA_CLEAR_MASTER); /* AHCI */
    CHECK_EQ_U64(pci_dma_action(0x010802), PCI_DMA_CLEAR_MASTER); /* NVMe */
    CHECK_EQ_U64(pci_dma_action(0x010180), PCI_DMA_CLEAR_MASTER); /* PIIX IDE */
    CHECK_EQ_U64(pci_dma_action(0x010000), PCI_DMA_CLEAR_MASTER); /* SCSI */
}

static void keeps_display_and_bridges(void)
{
    CHECK_EQ_U64(pci_dma_action(0x030000), PCI_DMA_KEEP_DISPLAY);  /* VGA */
    CHECK_EQ_U64(pci_dma_action(0x038000), PCI_DMA_KEEP_DISPLAY);  /* other display */
    CHECK_EQ_U64(pci_dma_action(0x030200), PCI_DMA_KEEP_DISPLAY);  /* 3D controller */
    CHECK_EQ_U64(pci_dma_action(0x060000), PCI_DMA_KEEP_BRIDGE);   /* host */
    CHECK_EQ_U64(pci_dma_action(0x060100), PCI_DMA_KEEP_BRIDGE);   /* ISA/LPC: COM1 */
    CHECK_EQ_U64(pci_dma_action(0x060400), PCI_DMA_KEEP_BRIDGE);   /* PCI-PCI */
    CHECK_EQ_U64(pci_dma_action(0x060401), PCI_DMA_KEEP_BRIDGE);   /* subtractive decode */
}

static void names_most_specific_first(void)
{
    CHECK_STR_EQ(pci_class_name(0x0c0330), "USB xHCI");
    CHECK_STR_EQ(pci_class_name(0x0c0320), "USB EHCI");
    CHECK_STR_EQ(pci_class_name(0x0c0300), "USB UHCI");
    CHECK_STR_EQ(pci_class_name(0x0c03fe), "USB");
    CHECK_STR_EQ(pci_class_name(0x010601), "SATA (AHCI)");
    CHECK_STR_EQ(pci_class_name(0x010600), "SATA");
    CHECK_STR_EQ(pci_class_name(0x010802), "NVMe");
    CHECK_STR_EQ(pci_class_name(0x01ff00), "storage");
    CHECK_STR_EQ(pci_class_name(0x020000), "Ethernet");
    CHECK_STR_EQ(pci_class_name(0x030000), "VGA display");
    CHECK_STR_EQ(pci_class_name(0x060100), "ISA bridge");
    CHECK_STR_EQ(pci_class_name(0xff0000), "other");
    CHECK_STR_EQ(pci_class_name(0x12345678), "other"); /* bits above the 24 never match */
}

static void clears_only_bus_master(void)
{
    CHECK_EQ_U64(pci_command_without_bus_master(0x0407), 0x0403);
    CHECK_EQ_U64(pci_command_without_bus_master(0x0003), 0x0003);
    CHECK_EQ_U64(pci_command_without_bus_master(0xffff), 0xfffb);
}

int main(void)
{
    check_suite = "pci_class";
    RUN_TEST(stops_every_endpoint);
    RUN_TEST(storage_only_loses_bus_mastering);
    RUN_TEST(keeps_display_and_bridges);
    RUN_TEST(names_most_specific_first);
    RUN_TEST(clears_only_bus_master);
    return check_finish();
}
