UNIT_TESTS += acpi_fadt
acpi_fadt_SRCS := tests/unit/test_acpi_fadt.c hv/acpi/acpi.c hv/acpi/acpi_table.c hv/acpi/madt.c hv/acpi/hpet.c hv/acpi/fadt.c
