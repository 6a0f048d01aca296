/* 16550 UART console on COM1, used only when one is detected: most laptops
 * have none, and writing to an absent port is harmless but pointless. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

bool serial_init(void);

/* Transmitting, for the log (hv/console/log.c), which decides when and
 * how much. None of these waits, except serial_tx_wait_room. */
/* A UART is there and has not been found stuck. */
bool serial_tx_usable(void);
/* Bytes the transmitter takes now without waiting: the FIFO depth (16) or
 * 1 when THRE is set, else 0. */
unsigned serial_tx_room(void);
void serial_tx_put(uint8_t c);
/* The transmitter has not had room for so long that it never will: from
 * now on the serial line is treated as absent. */
void serial_tx_give_up(void);
/* Polls until there is room (bounded; a UART that never drains is marked
 * stuck and then takes nothing): only for the end of the run and a panic. */
unsigned serial_tx_wait_room(void);
/* A received byte, or -1 if none is waiting (or there is no UART). */
int serial_getc(void);
