/* hv's one-line report of the firmware DMA the stub stopped (hv/firmware_dma_text.c). */
#include "check.h"
#include "hv/firmware_dma_text.h"
#include "lib/pci_class.h"

static struct handoff_pci_function fn(uint8_t dev, uint32_t class_code, bool driver,
                                      bool disconnected, bool was_on, bool on)
{
    return (struct handoff_pci_function){
        .device = dev, .class_code = class_code, .action = (uint8_t)pci_dma_action(class_code),
        .had_driver = driver, .disconnected = disconnected, .bus_master_was_on = was_on,
        .bus_master_on = on,
    };
}

/* q35 booted from a USB stick, as tests/system/usb_cases.py sees it. */
static struct handoff_pci q35(void)
{
    struct handoff_pci p = {.enumerated = true};
    p.functions[p.recorded++] = fn(0x00, 0x060000, false, false, false, false); /* host bridge */
    p.functions[p.recorded++] = fn(0x01, 0x030000, true, false, true, true);    /* display */
    p.functions[p.recorded++] = fn(0x02, 0x0c0330, true, true, true, false);    /* xHCI */
    p.functions[p.recorded++] = fn(0x1f, 0x010601, true, false, true, false);   /* AHCI */
    p.functions[p.recorded++] = fn(0x1e, 0x020000, false, false, false, false); /* idle NIC */
    p.count = p.recorded;
    p.stopped = 3, p.idle = 1, p.kept_display = 1, p.kept_bridge = 1;
    return p;
}

static void names_active_functions_only(void)
{
    struct handoff_pci p = q35();
    char line[224];
    firmware_dma_summary(line, sizeof(line), &p);
    CHECK_STR_EQ(line, "stopped 3 of 5 PCI function(s): USB xHCI at 00:02.0 (disconnected), "
                       "SATA (AHCI) at 00:1f.0 (bus master cleared); 1 idle; kept 1 display(s), "
                       "1 bridge(s)");
}

static void outcomes(void)
{
    struct handoff_pci_function f = fn(2, 0x0c0330, true, false, true, false);
    CHECK_STR_EQ(firmware_dma_outcome(&f), "not disconnected, bus master cleared");
    f = fn(2, 0x0c0330, true, true, true, true);
    CHECK_STR_EQ(firmware_dma_outcome(&f), "STILL MASTERING");
    f = fn(2, 0x0c0500, false, false, true, false);
    CHECK_STR_EQ(firmware_dma_outcome(&f), "bus master cleared");
    CHECK(firmware_dma_active(&f));
    f = fn(2, 0x010802, true, false, false, false);
    CHECK_STR_EQ(firmware_dma_outcome(&f), "bus master off");
    f = fn(2, 0x030000, true, false, true, true); /* the display is never "active" */
    CHECK(!firmware_dma_active(&f));
    f = fn(2, 0x020000, false, false, false, false);
    CHECK(!firmware_dma_active(&f));
}

static void segment_shown_when_not_zero(void)
{
    struct handoff_pci p = {.enumerated = true, .count = 1, .recorded = 1, .stopped = 1};
    p.functions[0] = fn(3, 0x010802, true, false, true, false);
    p.functions[0].segment = 1;
    p.functions[0].bus = 0x41;
    char line[224];
    firmware_dma_summary(line, sizeof(line), &p);
    CHECK_STR_EQ(line, "stopped 1 of 1 PCI function(s): NVMe at 0001:41:03.0 (bus master cleared); "
                       "0 idle; kept 0 display(s), 0 bridge(s)");
}

/* A PC with many active controllers: whole items or none, then a count. */
static void too_many_are_counted_not_cut(void)
{
    struct handoff_pci p = {.enumerated = true};
    for (uint8_t d = 0; d < 20; d++)
        p.functions[p.recorded++] = fn(d, 0x0c0330, true, true, true, false);
    p.count = p.stopped = p.recorded;
    char line[224];
    firmware_dma_summary(line, sizeof(line), &p);
    CHECK(strlen(line) < sizeof(line));
    CHECK(strstr(line, "(disconnected), and ") != NULL);
    CHECK(strstr(line, " more; 0 idle; kept 0 display(s), 0 bridge(s)") != NULL);
    unsigned shown = 0;
    for (const char *s = line; (s = strstr(s, "USB xHCI at ")); s++)
        shown++;
    char expect[32];
    snprintf(expect, sizeof(expect), "and %u more;", 20 - shown);
    CHECK(strstr(line, expect) != NULL);
    /* A tiny buffer stays terminated and within bounds. */
    char small[20];
    firmware_dma_summary(small, sizeof(small), &p);
    CHECK(strlen(small) == sizeof(small) - 1);
}

static void recorded_count_is_clamped(void)
{
    struct handoff_pci p = q35();
    p.recorded = 1000; /* a corrupt count must not walk past the array */
    char line[224];
    firmware_dma_summary(line, sizeof(line), &p);
    CHECK(strncmp(line, "stopped 3 of 5", 14) == 0);
}

int main(void)
{
    check_suite = "firmware_dma_text";
    RUN_TEST(names_active_functions_only);
    RUN_TEST(outcomes);
    RUN_TEST(segment_shown_when_not_zero);
    RUN_TEST(too_many_are_counted_not_cut);
    RUN_TEST(recorded_count_is_clamped);
    return check_finish();
}
