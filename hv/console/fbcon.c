#include "hv/console/fbcon.h"

#include "hv/console/font.h"
#include "hv/console/log.h"
#include "hv/console/status_line.h"
#include "hv/mm/mm.h"
#include "hv/time/time.h"

/* The file is built -Os (the Makefile's CORE_COLD_SRCS), but a glyph's
 * drawing stays -O2: the screen is drawn in time some guest pays for, and
 * with all of it -Os bench-fair's shares moved (fairness_error_pct 0.58 ->
 * 1.54; 1.12 with these two -O2; docs/benchmarks.md hv_image_bytes). */
#define HOT_DRAW __attribute__((optimize("O2")))

/* A cell is a character and the log level that picked its colour. Text
 * goes into `cells`, a ring of rows in RAM (scrolling moves the ring's
 * start, not the text); `shown` is what the screen shows. A flush draws only
 * the cells that differ, and only the idle loop and the end of the run
 * flush, so a flood of lines costs memory writes, not a screen redraw per
 * line, and video memory is never read back (slow on real hardware). */
struct cell {
    unsigned char ch;
    unsigned char level;
};


static volatile uint32_t *pixels;
static uint32_t pitch; /* pixels per scan line */
/* `rows` is the scrolling log's: the screen's rows below the status line. */
static uint32_t cols, rows;
/* The status line (status_line.h) on the screen's top row, when the screen
 * has room for it: composed from the idle loop every STATUS_PERIOD_NS. */
static uint32_t status_rows;
static struct cell *status_cells, *status_shown;
static uint64_t status_due_ns;
#define STATUS_PERIOD_NS 500000000ULL
#define STATUS_LINE_MAX 256
static uint32_t cur_col, cur_row; /* cur_row: logical, 0 = top of the screen */
static uint32_t ring_top;         /* cells row at the top of the newest screenful */
/* The ring keeps HISTORY_ROWS lines above the screen for scrolling back
 * (Shift+Page Up on the PS/2 keyboard: hv/console/keymap.c). */
#define HISTORY_ROWS 1000
static uint32_t ring_rows;        /* rows + the history the allocation allowed */
static uint32_t history_kept;     /* lines above the screen that hold text */
static uint32_t view_back;        /* lines the view is scrolled back; 0: the newest */
static struct cell *cells, *shown;
static uint32_t fg_colour[4], bg_colour;
static const struct handoff_framebuffer *fbinfo;
static bool dirty;
static unsigned lines_unflushed;
/* Before the clock is calibrated there is no time to space flushes by:
 * flush every screenful of lines (the screen is at most that far behind if
 * the boot hangs), and at once for warnings and errors. Each flush of a
 * scrolled screen redraws most of it (~0.5 M instructions under -icount):
 * every 16 lines cost 32 guests' boot ~1 M (docs/benchmarks.md). */
#define EARLY_FLUSH_LINES 48

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

static HOT_DRAW struct cell *cell_at(uint32_t row, uint32_t col)
{
    return &cells[((ring_top + row) % ring_rows) * cols + col];
}

/* What screen row `row` shows: the newest text, or older text while
 * scrolled back, with the bottom row then saying so. */
static const char scrolled_note[] = " -- scrolled back: Shift+Page Down returns -- ";

static struct cell view_cell(uint32_t row, uint32_t col)
{
    if (!view_back)
        return *cell_at(row, col);
    if (row == rows - 1) {
        unsigned char ch = col < sizeof(scrolled_note) - 1 ? (unsigned char)scrolled_note[col] : ' ';
        return (struct cell){ch, LOG_WARN};
    }
    uint32_t ring_row = (ring_top + ring_rows - view_back + row) % ring_rows;
    return cells[ring_row * cols + col];
}

/* Two pixels of a glyph row for each level: [level][bits], the left pixel
 * from bit 1 of `bits`, in the low half (the lower address). A glyph row
 * is then four 8-byte stores, not eight tests and stores: the screen is
 * what hv draws most (and, before the clock runs, synchronously at boot). */
static uint64_t pixel_pairs[4][4];

static void make_pixel_pairs(void)
{
    for (unsigned level = 0; level < 4; level++)
        for (unsigned bits = 0; bits < 4; bits++)
            pixel_pairs[level][bits] = (uint64_t)(bits & 2 ? fg_colour[level] : bg_colour) |
                                       (uint64_t)(bits & 1 ? fg_colour[level] : bg_colour) << 32;
}

/* `row` counts the screen's rows (the status line's included). */
static HOT_DRAW void draw(uint32_t row, uint32_t col, struct cell c)
{
    const uint8_t *glyph = font_glyph(c.ch);
    const uint64_t *pair = pixel_pairs[c.level & 3];
    volatile uint32_t *p = pixels + (uint64_t)row * FONT_HEIGHT * pitch + (uint64_t)col * FONT_WIDTH;
    _Static_assert(FONT_WIDTH == 8, "draw() stores a glyph row as four pixel pairs");
    for (unsigned y = 0; y < FONT_HEIGHT; y++, p += pitch) {
        unsigned bits = glyph[y];
        volatile uint64_t *q = (volatile uint64_t *)p;
        q[0] = pair[bits >> 6];
        q[1] = pair[(bits >> 4) & 3];
        q[2] = pair[(bits >> 2) & 3];
        q[3] = pair[bits & 3];
    }
}

static bool same(struct cell a, struct cell b)
{
    return a.ch == b.ch && (a.level == b.level || a.ch == ' ');
}

/* The screen is the largest thing hv ever writes (4 MB at 1280x800: half
 * a million `rep stosq` steps under -icount), and neither the firmware's
 * leftovers on it nor hv's first lines matter to a guest: the first flush
 * clears it, then draws. After the clock runs that is the idle loop's, so
 * the first guest does not wait for the screen (boot_first_guest -0.7 M;
 * clearing inside the clock's calibration window instead cost 0.23 M more:
 * the window closes first); before the clock runs, a warning or
 * EARLY_FLUSH_LINES lines clear and draw at once, as a panic's report
 * does. The clear is one piece (~4 ms of virtual time under -icount, about
 * 1 ms on a PC, once per boot): cut into scan lines and stopped by
 * `stop`, it left one of timer-edges' 200 near timers 219 us late (bound
 * 50 us), which is not understood yet (docs/benchmarks.md,
 * hv_image_bytes). */
static bool screen_cleared;

/* Padding included (the framebuffer's too, never shown). */
static void clear_screen(void)
{
    uint64_t pair = (uint64_t)bg_colour << 32 | bg_colour;
    uint64_t count = (uint64_t)pitch * fbinfo->height;
    volatile uint32_t *p = pixels;
    uint64_t pairs = count / 2;
    __asm__ volatile("rep stosq" : "+D"(p), "+c"(pairs) : "a"(pair) : "memory");
    if (count % 2)
        pixels[count - 1] = bg_colour;
    screen_cleared = true;
}

/* How far a pass has got: the idle loop may be cut short any time (a timer
 * interrupt 100 us away), and the next call goes on from here rather than
 * comparing the whole screen again, which alone could take longer than the
 * idle time and never finish. */
static uint32_t pass_row, pass_col;
#define CELLS_BETWEEN_CHECKS 16

/* Composes the status line into its cells and draws what changed: one row,
 * at most every STATUS_PERIOD_NS (never before the clock runs). */
static void refresh_status(void)
{
    uint64_t now = time_now_ns();
    /* Not before the first flush has cleared the screen. */
    if (!status_rows || !now || now < status_due_ns || !screen_cleared)
        return;
    status_due_ns = now + STATUS_PERIOD_NS;
    char text[STATUS_LINE_MAX];
    status_line_compose(text, cols + 1 < sizeof(text) ? cols + 1 : sizeof(text), now);
    bool ended = false;
    for (uint32_t c = 0; c < cols; c++) {
        if (!text[c] || c + 1 >= sizeof(text))
            ended = true;
        struct cell want = {ended ? ' ' : (unsigned char)text[c], LOG_DEBUG};
        if (!same(want, status_shown[c])) {
            draw(0, c, want);
            status_shown[c] = want;
        }
        status_cells[c] = want;
    }
}

/* Not the status line: that is fbcon_idle's and fbcon_status_now's, never
 * a panic's (its report must not depend on walking the guests). */
static void flush(bool (*stop)(void))
{
    if (!screen_cleared)
        clear_screen();
    if (!dirty && pass_row == 0 && pass_col == 0)
        return;
    if (pass_row == 0 && pass_col == 0)
        dirty = false; /* a new pass: a line written from here on needs another */
    unsigned since_check = 0;
    for (; pass_row < rows; pass_row++, pass_col = 0) {
        for (; pass_col < cols; pass_col++) {
            if (++since_check == CELLS_BETWEEN_CHECKS) {
                since_check = 0;
                if (stop && stop())
                    return; /* the rest next time */
            }
            struct cell want = view_cell(pass_row, pass_col);
            struct cell *have = &shown[pass_row * cols + pass_col];
            if (!same(want, *have)) {
                /* A cell drawn is ~640 instructions (5 us under -icount):
                 * asked before each, so a timer's wake-up waits for one
                 * cell at most, not for 16 (up to 170 us late). */
                if (stop && since_check && stop())
                    return;
                draw(status_rows + pass_row, pass_col, want);
                *have = want;
            }
        }
    }
    pass_row = pass_col = 0;
    lines_unflushed = 0;
}

/* A row's cells are contiguous in the ring: one address per row, not a
 * division per cell (lines are written wherever the log drains, often
 * with interrupts off: docs/benchmarks.md, hv_irq_off_max). */
static struct cell *row_at(uint32_t row)
{
    return cell_at(row, 0);
}

static void newline(void)
{
    cur_col = 0;
    if (cur_row + 1 < rows) {
        cur_row++;
        return;
    }
    ring_top = (ring_top + 1) % ring_rows;
    if (history_kept < ring_rows - rows)
        history_kept++;
    /* Scrolled back, the view stays on the text it shows. */
    if (view_back && view_back < history_kept)
        view_back++;
    struct cell *row = row_at(rows - 1);
    for (uint32_t c = 0; c < cols; c++)
        row[c] = (struct cell){' ', LOG_INFO};
}

static void fbcon_write(const char *s, size_t n, enum log_level level)
{
    struct cell *row = row_at(cur_row);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n') {
            newline();
            row = row_at(cur_row);
            continue;
        }
        if (ch == '\r')
            continue;
        if (cur_col == cols) {
            newline();
            row = row_at(cur_row);
        }
        row[cur_col++] = (struct cell){ch == '\t' ? ' ' : ch, (unsigned char)level};
    }
    dirty = true;
    lines_unflushed++;
    /* Once the clock runs, lines arrive from wherever the log drains (the
     * scheduler, a hypercall's or an interrupt's path): drawing is for the
     * idle loop and the end of the run (the sink's flush), never here. At
     * boot, before that, nothing else would draw. */
    if (!time_now_ns() && (level >= LOG_WARN || lines_unflushed >= EARLY_FLUSH_LINES))
        flush(NULL);
}

uint64_t fbcon_idle(void)
{
    refresh_status();
    return status_rows ? status_due_ns : 0;
}

void fbcon_status_now(void)
{
    status_due_ns = 0;
    refresh_status();
}

static const struct console_sink fbcon_sink = {"framebuffer", fbcon_write, flush};

/* Fills n cells with blanks, four a store (the ring is a few hundred KiB). */
static void blank_cells(struct cell *c, uint64_t n)
{
    _Static_assert(sizeof(struct cell) == 2, "four cells a word");
    struct cell blank = {' ', LOG_INFO};
    uint16_t one;
    __builtin_memcpy(&one, &blank, sizeof(one));
    uint64_t words = n / 4, pattern = 0x0001000100010001ULL * one;
    void *p = c;
    __asm__ volatile("rep stosq" : "+D"(p), "+c"(words) : "a"(pattern) : "memory");
    for (uint64_t i = n & ~3ULL; i < n; i++)
        c[i] = blank;
}

__attribute__((cold)) bool fbcon_init(const struct handoff_framebuffer *fb)
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
    if (rows >= 8) {
        status_rows = 1;
        rows -= status_rows;
        status_cells = kalloc_zeroed((uint64_t)cols * 2 * sizeof(*status_cells));
        if (!status_cells)
            return false;
        status_shown = status_cells + cols;
        for (uint32_t c = 0; c < cols; c++)
            status_cells[c] = status_shown[c] = (struct cell){' ', LOG_INFO};
    }
    /* History if memory allows (a few hundred KiB), else just the screen. */
    ring_rows = rows + HISTORY_ROWS;
    cells = kalloc_zeroed((uint64_t)cols * ring_rows * sizeof(*cells));
    if (!cells) {
        ring_rows = rows;
        cells = kalloc_zeroed((uint64_t)cols * ring_rows * sizeof(*cells));
    }
    shown = kalloc_zeroed((uint64_t)cols * rows * sizeof(*shown));
    if (!cells || !shown)
        return false;

    bg_colour = encode(0, 0, 0);
    fg_colour[LOG_DEBUG] = encode(0x80, 0x80, 0x80);
    fg_colour[LOG_INFO] = encode(0xd0, 0xd0, 0xd0);
    fg_colour[LOG_WARN] = encode(0xff, 0xd0, 0x40);
    fg_colour[LOG_ERROR] = encode(0xff, 0x50, 0x50);
    make_pixel_pairs();

    /* The first flush clears the firmware's leftovers (clear_screen); the
     * screen then shows blank cells, and a flush draws only text. */
    blank_cells(cells, (uint64_t)cols * ring_rows);
    blank_cells(shown, (uint64_t)cols * rows);
    screen_cleared = false;

    log_add_sink(&fbcon_sink);
    dirty = true; /* the replayed history, all of it, for that flush */
    return true;
}

void fbcon_scroll(int pages)
{
    if (!cells || pages == 0)
        return;
    /* Half a screen per key press: the lines either side stay in view. */
    uint64_t step = rows > 2 ? rows / 2 : 1;
    uint64_t amount = step * (uint64_t)(pages > 0 ? (int64_t)pages : -(int64_t)pages);
    uint64_t back = view_back;
    if (pages > 0)
        back += amount;
    else
        back = back > amount ? back - amount : 0;
    if (back > history_kept)
        back = history_kept;
    if (back == view_back)
        return;
    view_back = (uint32_t)back;
    /* Drawn by the next flush (the idle loop, the end of the run), never
     * here: this runs wherever the keyboard is polled. */
    dirty = true;
    pass_row = pass_col = 0;
}

bool fbcon_present(void)
{
    return cells && shown && pixels;
}

void fbcon_flush(void)
{
    if (fbcon_present())
        flush(NULL);
}
