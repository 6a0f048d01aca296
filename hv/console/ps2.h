/* The PC's PS/2 keyboard through the i8042 controller (ports 0x60/0x64):
 * most laptops' built-in keyboards, desktops with a PS/2 socket, QEMU's
 * default keyboard. Polled like the serial line (hv takes no device
 * interrupts: hv/console/input.c), and only used when one is there: the
 * firmware's ACPI tables do not deny it and the controller answers. */
#pragma once

#include <stdbool.h>

struct acpi_info;

/* Probes once, logs what it found ("keyboard: ..."); true if it will be
 * read. Touches no port when ACPI says there is no i8042. */
bool ps2_init(const struct acpi_info *acpi);
/* A keyboard was found and is read. */
bool ps2_present(void);
/* A byte from the keyboard (a scan code, set 1), or -1 if none waits or
 * there is no keyboard. Mouse bytes are read and dropped. */
int ps2_getc(void);
/* The caller took its most bytes in one poll and there were still more:
 * a controller that never runs dry is stuck, and is then ignored. */
void ps2_poll_saturated(bool saturated);
