#include "hv/console/ps2.h"

#include "hv/acpi/acpi.h"
#include "hv/console/log.h"
#include "hv/cpu/x86.h"
#include "hv/time/time.h"

#define PS2_DATA 0x60
#define PS2_STATUS 0x64 /* read */
#define PS2_COMMAND 0x64 /* write */

#define STATUS_OUTPUT_FULL 0x01 /* a byte waits at PS2_DATA */
#define STATUS_INPUT_FULL 0x02  /* the controller has not taken our last write */
#define STATUS_AUX 0x20         /* the waiting byte is the mouse's */

#define CMD_READ_CONFIG 0x20
#define CMD_WRITE_CONFIG 0x60

#define CONFIG_KBD_DISABLED 0x10  /* keyboard clock off */
#define CONFIG_TRANSLATE 0x40     /* set 2 from the keyboard -> set 1 to us */

/* Answers take microseconds; 20 ms is generous and still no hang. */
#define ANSWER_TIMEOUT_NS 20000000ULL
#define ANSWER_MAX_SPINS 1000000u
/* Bytes to read away before talking to the controller, and polls in a row
 * at the caller's limit before the controller counts as stuck (a second). */
#define FLUSH_MAX 32
#define SATURATED_POLLS_MAX 50

static bool present;
static unsigned saturated_polls;

/* Spins until (status & mask) == want, within bounds: false on time-out. */
static bool wait_status(uint8_t mask, uint8_t want)
{
    uint64_t deadline = time_now_ns() + ANSWER_TIMEOUT_NS;
    for (unsigned spins = 0; spins < ANSWER_MAX_SPINS; spins++) {
        if ((inb(PS2_STATUS) & mask) == want)
            return true;
        if ((spins & 63) == 63 && time_now_ns() > deadline)
            return false;
        cpu_relax();
    }
    return false;
}

static bool command(uint8_t cmd)
{
    if (!wait_status(STATUS_INPUT_FULL, 0))
        return false;
    outb(PS2_COMMAND, cmd);
    return true;
}

static int read_answer(void)
{
    if (!wait_status(STATUS_OUTPUT_FULL, STATUS_OUTPUT_FULL))
        return -1;
    return inb(PS2_DATA);
}

/* Reads away what the firmware left (keys typed during boot, replies):
 * false if the controller never runs dry, which no working one does. */
static bool flush(void)
{
    for (unsigned i = 0; i < FLUSH_MAX; i++) {
        if (!(inb(PS2_STATUS) & STATUS_OUTPUT_FULL))
            return true;
        (void)inb(PS2_DATA);
    }
    return !(inb(PS2_STATUS) & STATUS_OUTPUT_FULL);
}

static bool absent(const char *why)
{
    log_info("keyboard: no PS/2 keyboard (%s)", why);
    return false;
}

bool ps2_init(const struct acpi_info *acpi)
{
    /* The FADT's IA-PC boot flags (revision 3 on) say whether the board has
     * an 8042; believe a "no" and leave the ports alone (Linux does the
     * same). Without the flags, ask the hardware. */
    if (acpi->have_boot_arch && acpi->no_8042)
        return absent("ACPI says there is no i8042");
    /* No device on the port: the bus floats and reads all ones. */
    if (inb(PS2_STATUS) == 0xff)
        return absent("no i8042 at port 0x64");
    if (!flush())
        return absent("the i8042 never stops sending");
    if (!command(CMD_READ_CONFIG))
        return absent("the i8042 takes no command");
    int config = read_answer();
    if (config < 0)
        return absent("the i8042 does not answer");
    /* Firmware normally leaves translation on (set 1 reaches us whatever
     * set the keyboard speaks) and the keyboard enabled; if not, ask for
     * both and leave the rest (interrupt enables, the mouse) as it was. */
    uint8_t want = (uint8_t)(((unsigned)config | CONFIG_TRANSLATE) & ~(unsigned)CONFIG_KBD_DISABLED);
    if (want != config) {
        if (!command(CMD_WRITE_CONFIG) || !wait_status(STATUS_INPUT_FULL, 0))
            return absent("the i8042 takes no configuration");
        outb(PS2_DATA, want);
        log_info("keyboard: i8042 configuration 0x%02x -> 0x%02x",
                 (unsigned)config, (unsigned)want);
    }
    present = true;
    log_info("keyboard: PS/2 (i8042), polled for console reads");
    return true;
}

bool ps2_present(void)
{
    return present;
}

int ps2_getc(void)
{
    /* Bounded: a mouse that keeps talking costs a few reads per call. */
    for (unsigned i = 0; present && i < 4; i++) {
        uint8_t status = inb(PS2_STATUS);
        if (!(status & STATUS_OUTPUT_FULL))
            return -1;
        uint8_t byte = inb(PS2_DATA);
        if (!(status & STATUS_AUX))
            return byte;
    }
    return -1;
}

void ps2_poll_saturated(bool saturated)
{
    if (!saturated) {
        saturated_polls = 0;
        return;
    }
    if (++saturated_polls >= SATURATED_POLLS_MAX && present) {
        present = false;
        log_warn("keyboard: the i8042 never stops sending; now ignored");
    }
}
