#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/console/font.h"
#include "tests/tools/screen_decode.h"
#include "tests/unit/check.h"

#define BOX_BYTE 0x7F

static bool glyph_pixel(const uint8_t *glyph, int x, int y)
{
    return (glyph[y] >> (7 - x)) & 1;
}

static bool glyphs_equal(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, FONT_HEIGHT) == 0;
}

static int ink_in_rows(const uint8_t *glyph, int first, int last)
{
    int count = 0;
    for (int y = first; y <= last; y++)
        for (int x = 0; x < FONT_WIDTH; x++)
            count += glyph_pixel(glyph, x, y);
    return count;
}

static int top_ink_row(const uint8_t *glyph)
{
    for (int y = 0; y < FONT_HEIGHT; y++)
        if (glyph[y] != 0)
            return y;
    return -1;
}

/* ---- The font itself ------------------------------------------------- */

static void space_glyph_is_empty(void)
{
    CHECK_EQ_U64(ink_in_rows(font_glyph(' '), 0, FONT_HEIGHT - 1), 0);
}

static void printable_glyphs_have_ink(void)
{
    for (unsigned c = '!'; c <= '~'; c++) {
        if (ink_in_rows(font_glyph((unsigned char)c), 0, FONT_HEIGHT - 1) == 0) {
            printf("  glyph 0x%02x is empty\n", c);
            CHECK(false);
        }
    }
}

/* The decoder matches exactly, so two equal bitmaps would be unreadable; the
 * box counts too, or a real character would read back as "unprintable". */
static void all_glyphs_are_distinct(void)
{
    for (unsigned a = 0x20; a <= BOX_BYTE; a++) {
        for (unsigned b = a + 1; b <= BOX_BYTE; b++) {
            if (glyphs_equal(font_glyph((unsigned char)a),
                             font_glyph((unsigned char)b))) {
                printf("  glyphs 0x%02x and 0x%02x are identical\n", a, b);
                CHECK(false);
            }
        }
    }
}

/* A cell's colours can be taken either way round, so a glyph must not be
 * another glyph with ink and paper swapped. */
static void no_glyph_is_another_inverted(void)
{
    for (unsigned a = 0x20; a <= BOX_BYTE; a++) {
        for (unsigned b = 0x20; b <= BOX_BYTE; b++) {
            const uint8_t *ga = font_glyph((unsigned char)a);
            const uint8_t *gb = font_glyph((unsigned char)b);
            bool inverse = true;
            for (int y = 0; y < FONT_HEIGHT; y++)
                inverse = inverse && (ga[y] ^ gb[y]) == 0xFF;
            if (inverse) {
                printf("  glyph 0x%02x is glyph 0x%02x inverted\n", a, b);
                CHECK(false);
            }
        }
    }
}

static void non_printable_bytes_get_the_box(void)
{
    const uint8_t *box = font_glyph(BOX_BYTE);
    for (unsigned c = 0; c <= 0xFF; c++) {
        if (c >= FONT_FIRST_PRINTABLE && c <= FONT_LAST_PRINTABLE)
            continue;
        if (!glyphs_equal(font_glyph((unsigned char)c), box)) {
            printf("  byte 0x%02x is not drawn as the box\n", c);
            CHECK(false);
        }
    }
    CHECK(font_glyph(0x00) != NULL);
    CHECK(!glyphs_equal(box, font_glyph('~')));
    CHECK(!glyphs_equal(box, font_glyph(' ')));
}

/* Hollow: every inked row is either a full edge or just the two sides. */
static void box_is_hollow(void)
{
    const uint8_t *box = font_glyph(BOX_BYTE);
    int top = top_ink_row(box), bottom = -1;
    for (int y = 0; y < FONT_HEIGHT; y++)
        if (box[y] != 0)
            bottom = y;
    CHECK(top >= 0);
    CHECK(bottom - top >= 4);
    if (top < 0 || bottom < 0)
        return;
    CHECK(box[top] == box[bottom]);
    uint8_t edge = box[top];
    int left = __builtin_clz((unsigned)edge) - 24;
    int right = __builtin_ctz((unsigned)edge);
    uint8_t sides = (uint8_t)(1u << (7 - left) | 1u << right);
    CHECK(right < 7 - left - 1); /* at least two pixels apart */
    for (int y = top + 1; y < bottom; y++)
        CHECK_EQ_U64(box[y], sides);
    for (int y = 0; y < FONT_HEIGHT; y++)
        if (y < top || y > bottom)
            CHECK_EQ_U64(box[y], 0);
}

/* The decoder takes a cell's top-left pixel as its likely background. */
static void top_row_is_blank_in_every_glyph(void)
{
    for (unsigned c = 0x20; c <= BOX_BYTE; c++)
        CHECK_EQ_U64(font_glyph((unsigned char)c)[0], 0);
}

/* Capitals and digits stand on the baseline (last row 11) and reach the cap
 * height (row 2); only g j p q y go below the baseline. */
static void metrics_follow_the_baseline(void)
{
    const char *full_height = "ABCDEFGHIJKLMNOPRSTUVWXYZ0123456789bdfhkl";
    for (const char *p = full_height; *p != '\0'; p++) {
        const uint8_t *g = font_glyph((unsigned char)*p);
        if (top_ink_row(g) != 2 || g[11] == 0 ||
            ink_in_rows(g, 12, FONT_HEIGHT - 1) != 0) {
            printf("  '%c' does not span rows 2..11\n", *p);
            CHECK(false);
        }
    }
    const char *x_height = "acemnorsuvwxz";
    for (const char *p = x_height; *p != '\0'; p++) {
        const uint8_t *g = font_glyph((unsigned char)*p);
        if (top_ink_row(g) != 5 || g[11] == 0 ||
            ink_in_rows(g, 12, FONT_HEIGHT - 1) != 0) {
            printf("  '%c' does not span rows 5..11\n", *p);
            CHECK(false);
        }
    }
    const char *descending = "gjpqy";
    for (const char *p = descending; *p != '\0'; p++) {
        const uint8_t *g = font_glyph((unsigned char)*p);
        if (ink_in_rows(g, 12, 14) == 0 || g[15] != 0) {
            printf("  '%c' has no descender in rows 12..14\n", *p);
            CHECK(false);
        }
    }
    for (unsigned c = 0x20; c <= BOX_BYTE; c++) {
        if (c == '_')
            continue; /* the underscore joins its neighbours on purpose */
        const uint8_t *g = font_glyph((unsigned char)c);
        for (int y = 0; y < FONT_HEIGHT; y++)
            CHECK_EQ_U64(g[y] & 1, 0); /* column 7 keeps glyphs apart */
    }
}

/* ---- Rendering helpers for the decoder tests -------------------------- */

struct canvas {
    uint8_t *rgb;
    size_t width, height;
    struct screen_image image;
};

static struct canvas canvas_new(size_t width, size_t height, uint32_t fill)
{
    struct canvas cv = {.width = width, .height = height};
    cv.rgb = malloc(width * height * 3 + 1);
    for (size_t i = 0; i < width * height; i++) {
        cv.rgb[i * 3] = (uint8_t)(fill >> 16);
        cv.rgb[i * 3 + 1] = (uint8_t)(fill >> 8);
        cv.rgb[i * 3 + 2] = (uint8_t)fill;
    }
    cv.image = (struct screen_image){cv.rgb, width, height};
    return cv;
}

static void put_pixel(struct canvas *cv, size_t x, size_t y, uint32_t colour)
{
    uint8_t *p = cv->rgb + (y * cv->width + x) * 3;
    p[0] = (uint8_t)(colour >> 16);
    p[1] = (uint8_t)(colour >> 8);
    p[2] = (uint8_t)colour;
}

/* Draws c with its cell's top-left pixel at (x, y), as the console would. */
static void draw_char(struct canvas *cv, size_t x, size_t y, unsigned char c,
                      uint32_t ink, uint32_t paper)
{
    const uint8_t *g = font_glyph(c);
    for (int row = 0; row < FONT_HEIGHT; row++)
        for (int col = 0; col < FONT_WIDTH; col++)
            put_pixel(cv, x + (size_t)col, y + (size_t)row,
                      glyph_pixel(g, col, row) ? ink : paper);
}

/* Draws lines of text (split at '\n') in a grid starting at (x0, y0); the
 * colours change from cell to cell the way coloured log levels would. */
static void draw_text(struct canvas *cv, size_t x0, size_t y0, const char *text)
{
    static const uint32_t inks[] = {0xC0C0C0, 0xFF5555, 0xFFFF55, 0x000000};
    static const uint32_t papers[] = {0x000000, 0x000000, 0x0000AA, 0xFFFFFF};
    size_t col = 0, row = 0, n = 0;
    for (const char *p = text; *p != '\0'; p++, n++) {
        if (*p == '\n') {
            row++;
            col = 0;
            continue;
        }
        draw_char(cv, x0 + col * FONT_WIDTH, y0 + row * FONT_HEIGHT,
                  (unsigned char)*p, inks[n % 4], papers[n % 4]);
        col++;
    }
}

static void check_decodes_to(const struct canvas *cv, size_t x0, size_t y0,
                             const char *expected)
{
    char *text = screen_decode_text(&cv->image, x0, y0);
    CHECK(text != NULL);
    if (text != NULL)
        CHECK_STR_EQ(text, expected);
    free(text);
}

/* ---- Decoder --------------------------------------------------------- */

static void every_glyph_decodes_in_both_polarities(void)
{
    struct canvas cv = canvas_new(FONT_WIDTH, FONT_HEIGHT, 0);
    for (unsigned c = 0x20; c <= 0x7E; c++) {
        draw_char(&cv, 0, 0, (unsigned char)c, 0xAAAAAA, 0x000000);
        CHECK_EQ_U64((unsigned char)screen_decode_cell(&cv.image, 0, 0), c);
        draw_char(&cv, 0, 0, (unsigned char)c, 0x101010, 0xF0F0F0);
        CHECK_EQ_U64((unsigned char)screen_decode_cell(&cv.image, 0, 0), c);
    }
    free(cv.rgb);
}

static void round_trip_of_coloured_text(void)
{
    const char *lines = "[hv] console: 1024x768 fb @ 0x80000000\n"
                        "WARN {guest 3} page fault at ~0x7f`ff_12; \"ok\"?\n"
                        "ERROR: 100% & $5 | <a=b> !#*+,-./:";
    struct canvas cv = canvas_new(60 * FONT_WIDTH, 4 * FONT_HEIGHT, 0x000000);
    draw_text(&cv, 0, 0, lines);
    /* Each line ends in '\n'; the 4th (blank) screen row is dropped. */
    char expected[256];
    snprintf(expected, sizeof(expected), "%s\n", lines);
    check_decodes_to(&cv, 0, 0, expected);
    free(cv.rgb);
}

static void non_printable_bytes_decode_as_box(void)
{
    struct canvas cv = canvas_new(4 * FONT_WIDTH, FONT_HEIGHT, 0x000000);
    draw_text(&cv, 0, 0, "a\x01\xff" "b");
    check_decodes_to(&cv, 0, 0, "a\x7f\x7f" "b\n");
    free(cv.rgb);
}

static void trailing_spaces_and_blank_rows_are_dropped(void)
{
    struct canvas cv = canvas_new(10 * FONT_WIDTH, 5 * FONT_HEIGHT, 0x0000AA);
    /* Spaces in a different paper colour are still one-colour cells. */
    draw_text(&cv, 0, 0, "  x  \n\n y   \n     ");
    check_decodes_to(&cv, 0, 0, "  x\n\n y\n");
    free(cv.rgb);
}

static void blank_or_tiny_screens_decode_to_nothing(void)
{
    struct canvas blank = canvas_new(64, 48, 0x123456);
    check_decodes_to(&blank, 0, 0, "");
    free(blank.rgb);
    struct canvas tiny = canvas_new(FONT_WIDTH - 1, FONT_HEIGHT * 2, 0);
    check_decodes_to(&tiny, 0, 0, "");
    free(tiny.rgb);
    struct canvas one = canvas_new(FONT_WIDTH, FONT_HEIGHT, 0);
    draw_char(&one, 0, 0, 'Q', 0xFFFFFF, 0);
    check_decodes_to(&one, 0, 0, "Q\n");
    check_decodes_to(&one, 1, 0, ""); /* origin leaves no whole cell */
    check_decodes_to(&one, 0, 1, "");
    check_decodes_to(&one, 100, 100, ""); /* origin outside the image */
    check_decodes_to(&one, SIZE_MAX, SIZE_MAX, "");
    free(one.rgb);
}

static void partial_edge_cells_are_ignored(void)
{
    /* 3.5 cells wide and 1.5 cells high, with ink in the partial cells. */
    struct canvas cv = canvas_new(3 * FONT_WIDTH + 4, FONT_HEIGHT + 8, 0);
    draw_text(&cv, 0, 0, "abc");
    for (size_t y = 0; y < cv.height; y++)
        for (size_t x = 3 * FONT_WIDTH; x < cv.width; x++)
            put_pixel(&cv, x, y, 0xFFFFFF);
    for (size_t x = 0; x < cv.width; x++)
        put_pixel(&cv, x, FONT_HEIGHT + 3, 0xFFFFFF);
    check_decodes_to(&cv, 0, 0, "abc\n");
    free(cv.rgb);
}

static void cell_origin_shifts_the_grid(void)
{
    struct canvas cv = canvas_new(5 * FONT_WIDTH + 3, 2 * FONT_HEIGHT + 5, 0);
    draw_text(&cv, 3, 5, "Hello\nWorld");
    check_decodes_to(&cv, 3, 5, "Hello\nWorld\n");
    /* Off by one pixel nothing lines up any more. */
    char *misaligned = screen_decode_text(&cv.image, 2, 5);
    CHECK(misaligned != NULL && strcmp(misaligned, "Hello\nWorld\n") != 0);
    free(misaligned);
    free(cv.rgb);
}

static void unreadable_cells_decode_as_question_mark(void)
{
    struct canvas cv = canvas_new(4 * FONT_WIDTH, FONT_HEIGHT, 0);
    draw_text(&cv, 0, 0, "abcd");
    put_pixel(&cv, 0 * FONT_WIDTH + 4, 8, 0x00FF00);  /* a third colour */
    put_pixel(&cv, 1 * FONT_WIDTH + 0, 15, 0xFF5555); /* a stray ink pixel */
    /* A two-colour cell showing no glyph at all: a full-cell checkerboard. */
    for (size_t y = 0; y < FONT_HEIGHT; y++)
        for (size_t x = 0; x < FONT_WIDTH; x++)
            put_pixel(&cv, 2 * FONT_WIDTH + x, y, (x + y) % 2 ? 0xFFFFFF : 0);
    check_decodes_to(&cv, 0, 0, "???d\n");
    free(cv.rgb);
}

static void decode_cell_rejects_cells_outside_the_image(void)
{
    struct canvas cv = canvas_new(FONT_WIDTH, FONT_HEIGHT, 0);
    CHECK_EQ_U64(screen_decode_cell(&cv.image, 0, 0), ' ');
    CHECK_EQ_U64(screen_decode_cell(&cv.image, 1, 0), SCREEN_DECODE_UNKNOWN);
    CHECK_EQ_U64(screen_decode_cell(&cv.image, 0, 1), SCREEN_DECODE_UNKNOWN);
    CHECK_EQ_U64(screen_decode_cell(&cv.image, SIZE_MAX, 0),
                 SCREEN_DECODE_UNKNOWN);
    CHECK_EQ_U64(screen_decode_cell(&cv.image, 0, SIZE_MAX - 3),
                 SCREEN_DECODE_UNKNOWN);
    free(cv.rgb);
}

static void decode_text_refuses_impossible_dimensions(void)
{
    static const uint8_t pixel[3];
    struct screen_image huge = {pixel, SIZE_MAX / 2, 3};
    CHECK(screen_decode_text(&huge, 0, 0) == NULL);
    struct screen_image wide = {pixel, SIZE_MAX, 1};
    CHECK(screen_decode_text(&wide, 0, 0) == NULL);
}

/* ---- PPM parsing ------------------------------------------------------ */

static const char *parse(const char *header, size_t raster_bytes,
                         struct screen_image *image)
{
    size_t header_len = strlen(header);
    size_t len = header_len + raster_bytes;
    uint8_t *buf = malloc(len); /* exact size so ASan catches overreads */
    memcpy(buf, header, header_len);
    memset(buf + header_len, '\n', raster_bytes); /* whitespace-looking pixels */
    const char *why = screen_parse_ppm(buf, len, image);
    if (why == NULL) {
        CHECK(image->rgb == buf + header_len);
        CHECK(image->rgb[0] == '\n' || raster_bytes == 0);
    }
    free(buf);
    return why;
}

static void ppm_accepts_qemu_style_and_comments(void)
{
    struct screen_image image = {0};
    CHECK(parse("P6\n640 480\n255\n", 640 * 480 * 3, &image) == NULL);
    CHECK_EQ_U64(image.width, 640);
    CHECK_EQ_U64(image.height, 480);
    CHECK(parse("P6 # made by hand\n# another\n 2\t3 # w h\n255 ", 18, &image) ==
          NULL);
    CHECK_EQ_U64(image.width, 2);
    CHECK_EQ_U64(image.height, 3);
    CHECK(parse("P6\r\n1 1\r\n255#trailing comment\n", 3, &image) == NULL);
    CHECK(parse("P6\n1 1\n15\n", 3, &image) == NULL);
    /* Bytes after the raster (another image, say) do not matter. */
    CHECK(parse("P6\n1 1\n255\n", 100, &image) == NULL);
    CHECK_EQ_U64(image.width, 1);
}

static void ppm_rejects_malformed_headers(void)
{
    struct screen_image image = {(const uint8_t *)"untouched", 7, 7};
    static const char *const bad[] = {
        "",
        "P",
        "P6",
        "P3\n1 1\n255\n",
        "p6\n1 1\n255\n",
        "P61 1\n255\n",
        "P6\n",
        "P6\n1\n",
        "P6\n1 1\n",
        "P6\n1 1\n255x",
        "P6\n1,1\n255\n",
        "P6\n-1 1\n255\n",
        "P6\n+1 1\n255\n",
        "P6\n1 x\n255\n",
        "P6\n0 1\n255\n",
        "P6\n1 0\n255\n",
        "P6\n1 1\n0\n",
        "P6\n1 1\n256\n",
        "P6\n1 1\n65535\n",
        "P6\n1 1\n99999999999999999999\n",
        "P6\n99999999999999999999999 1\n255\n",
        "P6\n1 99999999999999999999999\n255\n",
        "P6 # comment without end",
        /* 2^64 + 1 and 2^64 + 255: they would wrap to plausible values. */
        "P6\n18446744073709551617 1\n255\n",
        "P6\n1 1\n18446744073709551871\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* Plenty of pixel data: only the header may be the reason. */
        const char *why = parse(bad[i], 64, &image);
        if (why == NULL) {
            printf("  accepted bad header #%zu\n", i);
            CHECK(false);
            image = (struct screen_image){(const uint8_t *)"untouched", 7, 7};
            continue;
        }
        CHECK_STR_EQ((const char *)image.rgb, "untouched");
        CHECK_EQ_U64(image.width, 7);
    }
    const char *why = parse("P6\n1 1\n65535\n", 6, &image);
    CHECK(why != NULL && strstr(why, "16-bit") != NULL);
}

static void ppm_rejects_truncated_or_huge_rasters(void)
{
    struct screen_image image = {0};
    CHECK(parse("P6\n2 2\n255\n", 11, &image) != NULL);
    CHECK(parse("P6\n2 2\n255\n", 0, &image) != NULL);
    CHECK(parse("P6\n2 2\n255", 0, &image) != NULL); /* header cut short */
    CHECK(parse("P6\n2 2\n255\n", 12, &image) == NULL);
    char header[128];
    /* width * height * 3 wraps around to a small number. */
    snprintf(header, sizeof(header), "P6\n%zu 3\n255\n", SIZE_MAX / 3 + 1);
    CHECK(parse(header, 3, &image) != NULL);
    snprintf(header, sizeof(header), "P6\n%zu %zu\n255\n",
             (size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4));
    CHECK(parse(header, 3, &image) != NULL);
}

int main(void)
{
    check_suite = "font";
    RUN_TEST(space_glyph_is_empty);
    RUN_TEST(printable_glyphs_have_ink);
    RUN_TEST(all_glyphs_are_distinct);
    RUN_TEST(no_glyph_is_another_inverted);
    RUN_TEST(non_printable_bytes_get_the_box);
    RUN_TEST(box_is_hollow);
    RUN_TEST(top_row_is_blank_in_every_glyph);
    RUN_TEST(metrics_follow_the_baseline);
    RUN_TEST(every_glyph_decodes_in_both_polarities);
    RUN_TEST(round_trip_of_coloured_text);
    RUN_TEST(non_printable_bytes_decode_as_box);
    RUN_TEST(trailing_spaces_and_blank_rows_are_dropped);
    RUN_TEST(blank_or_tiny_screens_decode_to_nothing);
    RUN_TEST(partial_edge_cells_are_ignored);
    RUN_TEST(cell_origin_shifts_the_grid);
    RUN_TEST(unreadable_cells_decode_as_question_mark);
    RUN_TEST(decode_cell_rejects_cells_outside_the_image);
    RUN_TEST(decode_text_refuses_impossible_dimensions);
    RUN_TEST(ppm_accepts_qemu_style_and_comments);
    RUN_TEST(ppm_rejects_malformed_headers);
    RUN_TEST(ppm_rejects_truncated_or_huge_rasters);
    return check_finish();
}
