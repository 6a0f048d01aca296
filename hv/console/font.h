/* The hypervisor's built-in 8x16 bitmap console font (an original design).
 * Covers printable ASCII; every other byte is drawn as one hollow box so that
 * garbage on the console stays visible instead of vanishing. */
#pragma once

#include <stdint.h>

#define FONT_WIDTH 8
#define FONT_HEIGHT 16

/* First and last byte with a glyph of its own; everything else is the box. */
#define FONT_FIRST_PRINTABLE 0x20
#define FONT_LAST_PRINTABLE 0x7E

/* Returns the FONT_HEIGHT rows of c's glyph, top row first; in each row bit 7
 * is the leftmost pixel. Never NULL: bytes outside the printable range get the
 * box glyph. The rows live in read-only static storage. */
const uint8_t *font_glyph(unsigned char c);
