/* Text console on the firmware's linear framebuffer: the log on screen, for
 * the PCs (most laptops) that have no serial port. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/handoff.h"

bool fbcon_init(const struct handoff_framebuffer *fb);
/* The screen console is on (fbcon_init succeeded). */
bool fbcon_present(void);
/* Scrolls the screen back (pages > 0) or forward (< 0) by half a screen
 * per page, within the lines kept; 0 lines back is the newest text. The
 * next flush draws it. No-op without a screen. */
void fbcon_scroll(int pages);
#define FBCON_SCROLL_ALL (1 << 20) /* pages: more than any history holds */
/* Draws what changed, now: for a halted machine, where no idle loop runs
 * (the log's own flush draws only after new lines). */
void fbcon_flush(void);
/* Brings the status line at the top up to date now (the end of the run:
 * the idle loop refreshes it every half second while guests run). */
void fbcon_status_now(void);
/* From the idle loop, interrupts on: refreshes the status line when due;
 * returns when it is next due (0: no status line). */
uint64_t fbcon_idle(void);
