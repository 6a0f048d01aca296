/* Reads text back from a picture of the hypervisor's framebuffer console, by
 * exact matching against the glyphs of hv/console/font8x16.c. Host-only: the
 * system tests use it (through tools/screentext) on QEMU screendumps, and the
 * font's unit test uses it for a render/decode round trip. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* An RGB picture: 3 bytes per pixel (red, green, blue), rows top to bottom,
 * no padding, so rgb holds width * height * 3 bytes. */
struct screen_image {
    const uint8_t *rgb;
    size_t width;
    size_t height;
};

/* What a cell decodes to when it is not a single glyph in two colours. */
#define SCREEN_DECODE_UNKNOWN '?'
/* What the font's hollow box (drawn for every non-printable byte) decodes to;
 * the original byte cannot be recovered, so it gets a marker of its own. */
#define SCREEN_DECODE_BOX '\x7f'

/* Parses a binary PPM (P6) held in len bytes at buf: "P6", width, height and
 * maxval (1..255) as decimal numbers separated by whitespace or '#' comments,
 * one whitespace byte, then width * height RGB triples; bytes after the
 * raster are ignored. On success fills *image (pointing into buf) and returns
 * NULL; otherwise leaves *image alone and returns a static sentence saying
 * what is wrong. */
const char *screen_parse_ppm(const uint8_t *buf, size_t len,
                             struct screen_image *image);

/* Decodes the 8x16 cell whose top-left pixel is (x, y): ' ' for a cell of one
 * colour, the character whose glyph it shows in exactly two colours (either
 * one may be the ink), SCREEN_DECODE_BOX for the box glyph, and
 * SCREEN_DECODE_UNKNOWN otherwise, including a cell that does not lie wholly
 * inside the image. */
char screen_decode_cell(const struct screen_image *image, size_t x, size_t y);

/* Decodes the grid of whole 8x16 cells whose first cell starts at pixel
 * (origin_x, origin_y) (partial cells at the right and bottom edges are
 * ignored). Returns a malloc'd NUL-terminated string with one '\n'-terminated
 * line per cell row, trailing spaces removed and trailing empty lines
 * dropped (so a blank screen gives ""). Returns NULL when memory runs out or
 * width * height * 3 does not fit in a size_t. The caller frees the string. */
char *screen_decode_text(const struct screen_image *image, size_t origin_x,
                         size_t origin_y);
