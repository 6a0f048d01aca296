UNIT_TESTS += acpi_madt
acpi_madt_SRCS := tests/unit/test_acpi_madt.c hv/acpi/acpi.c hv/acpi/acpi_table.c hv/acpi/madt.c hv/acpi/hpet.c hv/acpi/fadt.c
