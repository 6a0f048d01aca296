#include "hv/console/fbcon.h"

#include "hv/console/font.h"
#include "hv/console/log.h"
#include "hv/mm/mm.h"

/* A cell is a character and the log level that picked its colour. The
 * cells are kept in RAM so scrolling redraws only what changed and never
 * reads the framebuffer back (slow on real hardware). */
struct cell {
    unsigned char ch;
    unsigned char level;
};

static volatile uint32_t *pixels;
static uint32_t pitch; /* pixels per scan line */
static uint32_t cols, rows;
static uint32_t cur_col, cur_row;
static struct cell *cells;
static uint32_t fg_colour[4], bg_colour;
static const struct handoff_framebuffer *fbinfo;

static uint32_t channel(uint32_t mask, uint8_t value)
{
    if (!mask)
        return 0;
    unsigned shift = (unsigned)__builtin_ctz(mask);
    uint32_t width_mask = mask >> shift;
    /* Scale 8-bit colour into a channel of any width. */
    uint32_t scaled = (uint32_t)value * width_mask / 255;
    return scaled << shift;
}

static uint32_t encode(uint8_t r, uint8_t g, uint8_t b)
{
    switch (fbinfo->format) {
    case HANDOFF_FB_RGBX:
        return (uint32_t)r | (uint32_t)g << 8 | (uint32_t)b << 16;
    case HANDOFF_FB_BGRX:
        return (uint32_t)b | (uint32_t)g << 8 | (uint32_t)r << 16;
    default:
        return channel(fbinfo->red_mask, r) | channel(fbinfo->green_mask, g) |
               channel(fbinfo->blue_mask, b);
    }
}

static void draw_cell(uint32_t row, uint32_t col)
{
    const struct cell *c = &cells[row * cols + col];
    const uint8_t *glyph = font_glyph(c->ch);
    uint32_t fg = fg_colour[c->level & 3];
    volatile uint32_t *p = pixels + (uint64_t)row * FONT_HEIGHT * pitch + (uint64_t)col * FONT_WIDTH;
    for (unsigned y = 0; y < FONT_HEIGHT; y++, p += pitch) {
        uint8_t bits = glyph[y];
        for (unsigned x = 0; x < FONT_WIDTH; x++)
            p[x] = (bits & (0x80 >> x)) ? fg : bg_colour;
    }
}

static void set_cell(uint32_t row, uint32_t col, unsigned char ch, unsigned char level)
{
    struct cell *c = &cells[row * cols + col];
    if (c->ch == ch && (c->level == level || ch == ' '))
        return;
    c->ch = ch;
    c->level = level;
    draw_cell(row, col);
}

static void scroll_up(void)
{
    for (uint32_t r = 0; r + 1 < rows; r++)
        for (uint32_t c = 0; c < cols; c++) {
            const struct cell *below = &cells[(r + 1) * cols + c];
            set_cell(r, c, below->ch, below->level);
        }
    for (uint32_t c = 0; c < cols; c++)
        set_cell(rows - 1, c, ' ', LOG_INFO);
}

static void newline(void)
{
    cur_col = 0;
    if (cur_row + 1 < rows)
        cur_row++;
    else
        scroll_up();
}

static void fbcon_write(const char *s, size_t n, enum log_level level)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n') {
            newline();
            continue;
        }
        if (ch == '\r')
            continue;
        if (cur_col == cols)
            newline();
        set_cell(cur_row, cur_col++, ch == '\t' ? ' ' : ch, (unsigned char)level);
    }
}

static const struct console_sink fbcon_sink = {"framebuffer", fbcon_write};

bool fbcon_init(const struct handoff_framebuffer *fb)
{
    if (fb->format == HANDOFF_FB_NONE || fb->width < FONT_WIDTH || fb->height < FONT_HEIGHT ||
        fb->pixels_per_line < fb->width)
        return false;
    uint64_t needed = (uint64_t)fb->pixels_per_line * fb->height * 4;
    if (needed > fb->size) {
        log_warn("framebuffer: %ux%u does not fit its %lu bytes; screen console off", fb->width,
                 fb->height, (unsigned long)fb->size);
        return false;
    }
    fbinfo = fb;
    pixels = mmio_map(fb->phys, needed, MMIO_WRITE_COMBINING);
    if (!pixels)
        return false;
    pitch = fb->pixels_per_line;
    cols = fb->width / FONT_WIDTH;
    rows = fb->height / FONT_HEIGHT;
    cells = kalloc_zeroed((uint64_t)cols * rows * sizeof(*cells));
    if (!cells)
        return false;

    bg_colour = encode(0, 0, 0);
    fg_colour[LOG_DEBUG] = encode(0x80, 0x80, 0x80);
    fg_colour[LOG_INFO] = encode(0xd0, 0xd0, 0xd0);
    fg_colour[LOG_WARN] = encode(0xff, 0xd0, 0x40);
    fg_colour[LOG_ERROR] = encode(0xff, 0x50, 0x50);

    /* Clear the firmware's leftovers; cells start as ' ' so every one is
     * drawn once, in the background colour. */
    for (uint32_t i = 0; i < cols * rows; i++)
        cells[i] = (struct cell){'\0', LOG_INFO};
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t c = 0; c < cols; c++)
            set_cell(r, c, ' ', LOG_INFO);
    /* Pixels right of or below the last full cell. */
    for (uint32_t y = 0; y < fb->height; y++)
        for (uint32_t x = (y < rows * FONT_HEIGHT) ? cols * FONT_WIDTH : 0; x < fb->width; x++)
            pixels[(uint64_t)y * pitch + x] = bg_colour;

    log_add_sink(&fbcon_sink);
    return true;
}
