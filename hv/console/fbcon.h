/* Text console on the firmware's linear framebuffer: the log on screen, for
 * the PCs (most laptops) that have no serial port. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/handoff.h"

bool fbcon_init(const struct handoff_framebuffer *fb);
/* Brings the status line at the top up to date now (the end of the run:
 * the idle loop refreshes it every half second while guests run). */
void fbcon_status_now(void);
/* From the idle loop, interrupts on: refreshes the status line when due;
 * returns when it is next due (0: no status line). */
uint64_t fbcon_idle(void);
