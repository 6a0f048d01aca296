/* The one plain struct the UEFI stub (efi/) hands to the hypervisor core (hv/).
 *
 * It carries no EFI types: everything the core needs from the firmware is
 * gathered while boot services exist and written here as plain numbers, so
 * the core never calls back into the UEFI world (except ResetSystem, whose
 * address it receives, at power-off). Physical addresses throughout; the core
 * reads them through its direct map. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/mm/memmap.h"

#define HANDOFF_MAGIC 0x66666f646e616876ULL /* "hvhandoff" (truncated), little endian */
#define HANDOFF_VERSION 3

#define HANDOFF_MAX_MEM_RANGES 1024
#define HANDOFF_FILE_NAME_MAX 64

/* Where the core is linked and where all physical memory is mapped.
 *
 * The direct map starts at PML4 slot 273, not at the first upper-half slot
 * (256): slots 256-271 ([0xffff800000000000, 0xffff880000000000)) are the
 * range Xen's public ABI reserves for the hypervisor, and a Xen PV guest
 * finds its machine-to-physical table at the start of it (slot 256,
 * docs/plans/xen-personality.md, R1). hv keeps all of slots 256-272 empty in
 * its own tables and their copies, so a guest's root can carry something of
 * the guest's there; mm_init checks it at every boot. Slot 272 stays empty
 * as a guard (Linux puts its direct map at the same address, for the same
 * reason). */
#define HV_CORE_BASE 0xffffffff80000000ULL
#define HV_DIRECT_MAP_BASE 0xffff888000000000ULL
#define HV_XEN_RESERVED_START 0xffff800000000000ULL /* first address of PML4 slot 256 */
#define HV_XEN_RESERVED_END 0xffff888000000000ULL   /* slots 256-272 empty: 256-271 Xen's, 272 guard */
#define PML4_INDEX(va) (((va) >> 39) & 511)
_Static_assert(PML4_INDEX(HV_XEN_RESERVED_START) == 256, "Xen's range starts at slot 256");
_Static_assert(PML4_INDEX(HV_DIRECT_MAP_BASE) == 273, "the direct map starts after Xen's range and a guard");
_Static_assert(HV_DIRECT_MAP_BASE == HV_XEN_RESERVED_END, "nothing between the guard and the direct map");

enum handoff_fb_format {
    HANDOFF_FB_NONE = 0, /* no framebuffer usable: serial only */
    HANDOFF_FB_RGBX,     /* byte 0 red, 1 green, 2 blue, 3 reserved */
    HANDOFF_FB_BGRX,     /* byte 0 blue, 1 green, 2 red, 3 reserved */
    HANDOFF_FB_BITMASK,  /* 32-bit pixels, channel positions given by masks */
};

struct handoff_framebuffer {
    uint64_t phys;
    uint64_t size;
    uint32_t width;
    uint32_t height;
    uint32_t pixels_per_line;
    uint32_t format;
    uint32_t red_mask, green_mask, blue_mask;
};

/* Wall-clock time read from the firmware (UTC when the firmware says so). */
struct handoff_time {
    bool valid;
    uint16_t year;
    uint8_t month, day, hour, minute, second;
    uint32_t nanosecond;
    int16_t utc_offset_minutes; /* 2047 = unspecified (treated as UTC) */
};

enum handoff_file_status {
    HANDOFF_FILE_OK = 0,
    HANDOFF_FILE_TOO_LARGE,
    HANDOFF_FILE_READ_ERROR,
    HANDOFF_FILE_NO_MEMORY,
    HANDOFF_FILE_BAD_NAME, /* name not representable in ASCII or too long */
};

/* A PCI function found before ExitBootServices and what the stub did to
 * stop the firmware's DMA through it (efi/pci_quiesce.c). */
#define HANDOFF_MAX_PCI_FUNCTIONS 64

struct handoff_pci_function {
    uint16_t segment;
    uint8_t bus, device, function;
    uint8_t action;                /* enum pci_dma_action (lib/pci_class.h) */
    uint16_t vendor_id, device_id;
    uint32_t class_code;           /* class << 16 | subclass << 8 | prog-if */
    bool had_driver;               /* a firmware driver had it open BY_DRIVER */
    bool disconnected;             /* DisconnectController succeeded */
    bool bus_master_was_on;        /* before hv touched it */
    bool bus_master_on;            /* as left at hand-over (read back) */
};

struct handoff_pci {
    bool left_running;             /* hv.cfg: stop_firmware_dma = no; nothing done */
    bool enumerated;               /* the firmware listed its PCI I/O handles */
    uint32_t count;                /* functions found */
    uint32_t stopped, idle;        /* of them: stopped; of those, with no driver and no bus mastering */
    uint32_t kept_display, kept_bridge;
    uint32_t still_mastering;      /* stopped, yet bus mastering reads back on */
    uint32_t recorded;             /* of them in functions[] */
    struct handoff_pci_function functions[HANDOFF_MAX_PCI_FUNCTIONS];
};

struct handoff_file {
    char name[HANDOFF_FILE_NAME_MAX]; /* NUL-terminated, ASCII */
    uint64_t phys;                    /* 0 unless status is OK */
    uint64_t size;
    uint32_t status; /* enum handoff_file_status */
};

#define HANDOFF_STUB_NOTES_BYTES 1024
#define HANDOFF_STUB_LINE_MAX 160 /* characters of one stub line, its end included */

struct handoff {
    uint64_t magic;
    uint32_t version;
    uint32_t struct_size;

    uint64_t boot_tsc; /* TSC at efi_main entry, for boot-time measurement */
    /* TSC once ExitBootServices returned: what follows is hv's own work,
     * with no firmware disk reads whose polling varies from run to run. */
    uint64_t exit_boot_tsc;

    /* The stub's report lines (efi/notes.c), each ended by '\n', without
     * "hv: ": hv logs them after its banner. stub_notes_lost counts lines
     * that did not fit. */
    char stub_notes[HANDOFF_STUB_NOTES_BYTES];
    uint32_t stub_notes_len, stub_notes_lost;

    /* The core image as loaded: [core_phys, core_phys + core_size) holds the
     * span of its PT_LOAD segments, linked at HV_CORE_BASE. core_elf_* is the
     * ELF file itself, unpacked from the packed copy the stub carries
     * (symbols for panic stack traces). */
    uint64_t core_phys, core_size;
    uint64_t core_elf_phys, core_elf_size;

    /* Page tables the stub switched to: identity map of firmware-visible
     * memory plus the core and the direct map. The core keeps them for the
     * one moment it needs the identity map again: calling ResetSystem. */
    uint64_t boot_pml4_phys;

    uint64_t efi_image_base;       /* where firmware loaded BOOTX64.EFI (gdb) */
    /* The firmware's ResetSystem (MS x64 calling convention), physical and
     * callable only on the identity map: hv's way to power a PC off. */
    uint64_t efi_reset_system;
    uint64_t rsdp_phys;            /* 0 if the firmware published none */

    struct handoff_framebuffer fb;
    struct handoff_time boot_time;
    struct handoff_pci pci; /* firmware DMA stopped before ExitBootServices */

    uint64_t config_phys, config_size; /* \hv.cfg, config_phys 0 if absent */
    bool config_too_large;

    bool secure_boot;            /* the firmware enforced Secure Boot on hv.efi */
    /* The files of \images: an array of file_count entries, sorted by name,
     * in loader-data pages of its own (sized to the folder, so the limit
     * is memory, not a table). files_skipped counts files found but not
     * listed (no memory for the table, or the folder grew while read):
     * the run then ends with a failure status. */
    bool images_dir_found;
    uint32_t file_count;
    uint32_t files_skipped;
    uint64_t files_phys; /* 0 when file_count is 0 */

    uint32_t mem_count;
    bool mem_truncated; /* the firmware map had more than HANDOFF_MAX_MEM_RANGES */
    struct mem_range mem[HANDOFF_MAX_MEM_RANGES];
};
