UNIT_TESTS += pci_class
pci_class_SRCS := tests/unit/test_pci_class.c lib/pci_class.c
