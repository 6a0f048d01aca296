/* 16550 UART console on COM1, used only when one is detected: most laptops
 * have none, and writing to an absent port is harmless but pointless. */
#pragma once

#include <stdbool.h>

bool serial_init(void);
/* A received byte, or -1 if none is waiting (or there is no UART). */
int serial_getc(void);
