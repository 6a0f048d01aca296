UNIT_TESTS += firmware_dma_text
firmware_dma_text_SRCS := tests/unit/test_firmware_dma_text.c hv/firmware_dma_text.c lib/pci_class.c lib/fmt.c
