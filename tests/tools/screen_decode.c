#include "tests/tools/screen_decode.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hv/console/font.h"

/* ---- PPM parsing ---------------------------------------------------- */

static bool is_ppm_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* Skips whitespace and '#' comments (which run to the end of the line).
 * Returns false if there was nothing to skip: tokens must be separated. */
static bool skip_separators(const uint8_t *buf, size_t len, size_t *pos)
{
    size_t start = *pos;
    while (*pos < len) {
        if (is_ppm_space(buf[*pos])) {
            (*pos)++;
        } else if (buf[*pos] == '#') {
            while (*pos < len && buf[*pos] != '\n' && buf[*pos] != '\r')
                (*pos)++;
        } else {
            break;
        }
    }
    return *pos > start;
}

/* Reads a decimal number no greater than max. */
static bool parse_number(const uint8_t *buf, size_t len, size_t *pos,
                         size_t max, size_t *out)
{
    size_t value = 0;
    size_t start = *pos;
    while (*pos < len && buf[*pos] >= '0' && buf[*pos] <= '9') {
        size_t digit = (size_t)(buf[*pos] - '0');
        if (value > (max - digit) / 10)
            return false;
        value = value * 10 + digit;
        (*pos)++;
    }
    if (*pos == start)
        return false;
    *out = value;
    return true;
}

const char *screen_parse_ppm(const uint8_t *buf, size_t len,
                             struct screen_image *image)
{
    size_t pos = 2, width, height, maxval, raster_size;

    if (len < 2 || buf[0] != 'P' || buf[1] != '6')
        return "not a binary PPM file (no P6 magic)";
    if (!skip_separators(buf, len, &pos) ||
        !parse_number(buf, len, &pos, SIZE_MAX, &width))
        return "bad or missing width in PPM header";
    if (!skip_separators(buf, len, &pos) ||
        !parse_number(buf, len, &pos, SIZE_MAX, &height))
        return "bad or missing height in PPM header";
    if (!skip_separators(buf, len, &pos) ||
        !parse_number(buf, len, &pos, 65535, &maxval))
        return "bad or missing maxval in PPM header";
    if (width == 0 || height == 0)
        return "PPM image has zero width or height";
    if (maxval == 0)
        return "PPM maxval is 0";
    if (maxval > 255)
        return "PPM uses 16-bit samples (maxval above 255), not supported";

    /* A comment may still sit between maxval and the one whitespace byte
     * that ends the header; the raster starts right after that byte, so
     * no further whitespace may be skipped (it could be pixel data). */
    if (pos < len && buf[pos] == '#')
        while (pos < len && buf[pos] != '\n' && buf[pos] != '\r')
            pos++;
    if (pos >= len || !is_ppm_space(buf[pos]))
        return "PPM header does not end in whitespace before the pixels";
    pos++;

    if (__builtin_mul_overflow(width, height, &raster_size) ||
        __builtin_mul_overflow(raster_size, (size_t)3, &raster_size))
        return "PPM dimensions are too large";
    if (len - pos < raster_size)
        return "PPM pixel data is truncated";

    image->rgb = buf + pos;
    image->width = width;
    image->height = height;
    return NULL;
}

/* ---- Cell decoding -------------------------------------------------- */

static const uint8_t *pixel_at(const struct screen_image *image, size_t x,
                               size_t y)
{
    return image->rgb + (y * image->width + x) * 3;
}

static bool same_colour(const uint8_t *a, const uint8_t *b)
{
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

static bool rows_equal(const uint8_t *a, const uint8_t *b)
{
    for (size_t row = 0; row < FONT_HEIGHT; row++)
        if (a[row] != b[row])
            return false;
    return true;
}

/* Returns the character whose glyph is exactly `rows`, or 0 if none is. */
static char match_glyph(const uint8_t rows[FONT_HEIGHT])
{
    for (unsigned c = FONT_FIRST_PRINTABLE; c <= FONT_LAST_PRINTABLE; c++)
        if (rows_equal(rows, font_glyph((unsigned char)c)))
            return (char)c;
    if (rows_equal(rows, font_glyph(0)))
        return SCREEN_DECODE_BOX;
    return 0;
}

char screen_decode_cell(const struct screen_image *image, size_t x, size_t y)
{
    if (x >= image->width || image->width - x < FONT_WIDTH ||
        y >= image->height || image->height - y < FONT_HEIGHT)
        return SCREEN_DECODE_UNKNOWN;

    /* Every glyph leaves its top-left pixel blank, so that pixel's colour is
     * the likelier background; the other colour is tried as background too
     * in case a renderer ever draws otherwise. */
    const uint8_t *first = pixel_at(image, x, y);
    const uint8_t *other = NULL;
    uint8_t ink_if_first_is_paper[FONT_HEIGHT];

    for (size_t row = 0; row < FONT_HEIGHT; row++) {
        uint8_t bits = 0;
        for (size_t col = 0; col < FONT_WIDTH; col++) {
            const uint8_t *p = pixel_at(image, x + col, y + row);
            bits = (uint8_t)(bits << 1);
            if (same_colour(p, first))
                continue;
            if (other == NULL)
                other = p;
            else if (!same_colour(p, other))
                return SCREEN_DECODE_UNKNOWN; /* three colours: no glyph */
            bits |= 1;
        }
        ink_if_first_is_paper[row] = bits;
    }
    if (other == NULL)
        return ' ';

    char c = match_glyph(ink_if_first_is_paper);
    if (c != 0)
        return c;

    uint8_t ink_if_other_is_paper[FONT_HEIGHT];
    for (size_t row = 0; row < FONT_HEIGHT; row++)
        ink_if_other_is_paper[row] = (uint8_t)~ink_if_first_is_paper[row];
    c = match_glyph(ink_if_other_is_paper);
    return c != 0 ? c : SCREEN_DECODE_UNKNOWN;
}

char *screen_decode_text(const struct screen_image *image, size_t origin_x,
                         size_t origin_y)
{
    size_t pixels, bytes, columns = 0, rows = 0, capacity;

    /* The pixel offsets computed below must not wrap. */
    if (__builtin_mul_overflow(image->width, image->height, &pixels) ||
        __builtin_mul_overflow(pixels, (size_t)3, &bytes))
        return NULL;
    if (origin_x < image->width)
        columns = (image->width - origin_x) / FONT_WIDTH;
    if (origin_y < image->height)
        rows = (image->height - origin_y) / FONT_HEIGHT;
    /* Each row needs its characters plus '\n'; one more byte for the NUL. */
    if (__builtin_mul_overflow(rows, columns + 1, &capacity) ||
        __builtin_add_overflow(capacity, (size_t)1, &capacity))
        return NULL;

    char *text = malloc(capacity);
    if (text == NULL)
        return NULL;

    size_t used = 0, end_of_last_nonempty_row = 0;
    for (size_t row = 0; row < rows; row++) {
        size_t line_start = used;
        for (size_t col = 0; col < columns; col++)
            text[used++] = screen_decode_cell(image, origin_x + col * FONT_WIDTH,
                                              origin_y + row * FONT_HEIGHT);
        while (used > line_start && text[used - 1] == ' ')
            used--;
        bool empty = used == line_start;
        text[used++] = '\n';
        if (!empty)
            end_of_last_nonempty_row = used;
    }
    text[end_of_last_nonempty_row] = '\0';
    return text;
}
