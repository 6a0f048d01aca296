UNIT_TESTS += acpi
acpi_SRCS := tests/unit/test_acpi.c hv/acpi/acpi.c hv/acpi/acpi_table.c hv/acpi/madt.c hv/acpi/hpet.c hv/acpi/fadt.c
