/* Console input: bytes typed on the serial line, and keys typed on the PS/2
 * keyboard (hv/console/ps2.c, turned into the bytes a terminal would send
 * by hv/console/keymap.c), go to the guest that has the console focus (one
 * at a time; the others keep logging). Ctrl-A n moves the focus to the next
 * guest that runs, Ctrl-A Ctrl-A sends one Ctrl-A. hv polls the UART and
 * the keyboard controller (it takes no device interrupts): every 20 ms, and
 * only while some guest waits for input (has bound HV_VIRQ_CONSOLE). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct guest;

#define CONSOLE_POLL_NS 20000000ULL

/* Takes what the UART and the keyboard have. */
void console_input_poll(void);
/* Guests' vCPUs that bound HV_VIRQ_CONSOLE: polling happens only then. */
extern unsigned console_listeners;
/* The guest with the focus (the first guest until moved). */
struct guest *console_focus(void);
/* The end of a run that halts (halt_at_end, halt_on_failure): with a PS/2
 * keyboard and a screen, keeps reading the keyboard so that Shift+Page Up
 * and Shift+Page Down scroll the screen through its history; otherwise
 * halts at once. Never returns. */
void console_halt_forever(void) __attribute__((noreturn));
