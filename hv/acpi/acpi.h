/* ACPI static table parser: finds the CPUs (MADT), the HPET, the PM timer and
 * the FADT facts needed for power-off/reset. It is pure: it only reads memory
 * through the direct map and never touches hardware, so it runs (and is unit
 * tested) anywhere. Firmware tables are treated as hostile input: every table
 * is bounds-, length- and checksum-checked before use and a broken one is
 * reported through warn() and skipped. AML (DSDT/SSDT) is not interpreted. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS 64

/* Return values of acpi_parse(). */
#define ACPI_OK 0
#define ACPI_ERR_ARGS (-1)          /* out is NULL */
#define ACPI_ERR_RSDP_RANGE (-2)    /* RSDP not entirely below phys_limit */
#define ACPI_ERR_RSDP_SIGNATURE (-3)
#define ACPI_ERR_RSDP_CHECKSUM (-4) /* first 20 bytes */
#define ACPI_ERR_RSDP_LENGTH (-5)   /* revision >= 2: length field out of range */
#define ACPI_ERR_RSDP_XCHECKSUM (-6)

/* Generic Address Structure address spaces. */
#define ACPI_GAS_SYSTEM_MEMORY 0
#define ACPI_GAS_SYSTEM_IO 1
#define ACPI_GAS_PCI_CONFIG 2

/* Generic Address Structure, as found in the tables. */
struct acpi_gas {
    uint8_t space_id; /* ACPI_GAS_* */
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size; /* 0 undefined, 1 byte, 2 word, 3 dword, 4 qword */
    uint64_t address;
};

struct acpi_info {
    uint32_t revision; /* the RSDP's revision field (0: ACPI 1.0, >= 2: 2.0+) */
    bool used_xsdt;    /* false: the RSDT was walked */

    /* MADT. lapic_phys is 0 if the table gave none: use the architectural
     * default (or the IA32_APIC_BASE MSR) then. */
    bool have_madt;
    uint64_t lapic_phys;
    bool pcat_compat; /* legacy 8259 PICs present: mask them */
    uint32_t cpu_count;
    uint32_t apic_ids[ACPI_MAX_CPUS]; /* in MADT order, each ID once */
    /* false: firmware marked the CPU disabled but online-capable (MADT
     * revision >= 5), i.e. it may be hot-added later: do not start it now. */
    bool cpu_enabled[ACPI_MAX_CPUS];
    /* Entries not listed: beyond ACPI_MAX_CPUS, disabled and not
     * online-capable, or carrying the invalid ID (0xff / 0xffffffff). */
    uint32_t cpus_ignored;

    /* HPET: base of the 1 KiB register block (system memory). */
    bool have_hpet;
    uint64_t hpet_phys;

    /* FADT. Ports are 0 when absent. */
    bool have_fadt;
    uint8_t fadt_revision;
    uint32_t fadt_length;
    bool hw_reduced; /* HW_REDUCED_ACPI: no PM1/PM timer/SCI hardware */

    bool have_pm_timer;
    uint16_t pm_timer_port; /* 4 ports, port + 3 <= 0xffff */
    bool pm_timer_32bit;    /* TMR_VAL_EXT; else the counter is 24 bits */

    uint16_t pm1a_cnt_port; /* SLP_TYP/SLP_EN for S5 power-off; 2 ports */
    uint16_t pm1b_cnt_port; /* must be written too when nonzero */
    uint64_t dsdt_phys;     /* X_DSDT preferred; holds \_S5 (SLP_TYP values) */
    uint16_t sci_irq;
    uint16_t smi_cmd_port;  /* 0: the system is always in ACPI mode */
    uint8_t acpi_enable_value;  /* write to smi_cmd_port to enter ACPI mode */
    uint8_t acpi_disable_value;

    /* Reset register (FADT RESET_REG_SUP): write reset_value to reset_reg.
     * Only set when the space is memory, I/O or PCI config and the address
     * nonzero. */
    bool have_reset_reg;
    struct acpi_gas reset_reg;
    uint8_t reset_value;

    /* CMOS RTC index of the century byte, 0 if none (or if the firmware gave
     * an index outside 0x0e..0x7f: it would clash with the clock registers or
     * the NMI-disable bit of port 0x70). */
    uint8_t century_cmos_index;

    /* IA-PC boot architecture flags: only meaningful from FADT revision 3 on
     * (earlier ones lack the field); when absent the derived booleans stay
     * false, i.e. "assume the legacy device is there". */
    bool have_boot_arch;
    uint16_t boot_arch_flags; /* raw */
    bool no_8042;             /* the 8042 flag is clear */
    bool no_vga;              /* "VGA Not Present" */
    bool no_cmos_rtc;         /* "CMOS RTC Not Present" */
    bool no_msi;              /* "MSI Not Supported" */
};

/* Parses the tables reachable from the RSDP at physical rsdp_phys. A table at
 * physical p is read through (p + direct_map_offset); anything not entirely
 * below phys_limit is refused unread. warn (may be NULL) gets one message per
 * problem, e.g. "ACPI: MADT checksum mismatch, table ignored"; msg is only
 * valid during the call. Broken tables are skipped, the rest still parse.
 * Returns ACPI_OK if the RSDP was valid (even if no table was usable),
 * a negative ACPI_ERR_* otherwise; *out is zeroed first in every case. */
int acpi_parse(uint64_t rsdp_phys, uintptr_t direct_map_offset, uint64_t phys_limit,
               struct acpi_info *out, void (*warn)(void *arg, const char *msg),
               void *warn_arg);
