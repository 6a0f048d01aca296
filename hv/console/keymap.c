#include "hv/console/keymap.h"

#include <stddef.h>

/* Set 1 make codes 0x00..0x58 (the break code is the make code | 0x80),
 * unshifted and shifted, US layout; 0 types nothing. */
static const char plain[0x59] = {
    [0x01] = 0x1b, [0x02] = '1', [0x03] = '2', [0x04] = '3', [0x05] = '4', [0x06] = '5',
    [0x07] = '6', [0x08] = '7', [0x09] = '8', [0x0a] = '9', [0x0b] = '0', [0x0c] = '-',
    [0x0d] = '=', [0x0e] = 0x7f, [0x0f] = '\t', [0x10] = 'q', [0x11] = 'w', [0x12] = 'e',
    [0x13] = 'r', [0x14] = 't', [0x15] = 'y', [0x16] = 'u', [0x17] = 'i', [0x18] = 'o',
    [0x19] = 'p', [0x1a] = '[', [0x1b] = ']', [0x1c] = '\r', [0x1e] = 'a', [0x1f] = 's',
    [0x20] = 'd', [0x21] = 'f', [0x22] = 'g', [0x23] = 'h', [0x24] = 'j', [0x25] = 'k',
    [0x26] = 'l', [0x27] = ';', [0x28] = '\'', [0x29] = '`', [0x2b] = '\\', [0x2c] = 'z',
    [0x2d] = 'x', [0x2e] = 'c', [0x2f] = 'v', [0x30] = 'b', [0x31] = 'n', [0x32] = 'm',
    [0x33] = ',', [0x34] = '.', [0x35] = '/', [0x37] = '*', [0x39] = ' ',
    /* The keypad as with Num Lock on (what firmware leaves it as). */
    [0x47] = '7', [0x48] = '8', [0x49] = '9', [0x4a] = '-', [0x4b] = '4', [0x4c] = '5',
    [0x4d] = '6', [0x4e] = '+', [0x4f] = '1', [0x50] = '2', [0x51] = '3', [0x52] = '0',
    [0x53] = '.',
};

static const char shifted[0x59] = {
    [0x01] = 0x1b, [0x02] = '!', [0x03] = '@', [0x04] = '#', [0x05] = '$', [0x06] = '%',
    [0x07] = '^', [0x08] = '&', [0x09] = '*', [0x0a] = '(', [0x0b] = ')', [0x0c] = '_',
    [0x0d] = '+', [0x0e] = 0x7f, [0x0f] = '\t', [0x10] = 'Q', [0x11] = 'W', [0x12] = 'E',
    [0x13] = 'R', [0x14] = 'T', [0x15] = 'Y', [0x16] = 'U', [0x17] = 'I', [0x18] = 'O',
    [0x19] = 'P', [0x1a] = '{', [0x1b] = '}', [0x1c] = '\r', [0x1e] = 'A', [0x1f] = 'S',
    [0x20] = 'D', [0x21] = 'F', [0x22] = 'G', [0x23] = 'H', [0x24] = 'J', [0x25] = 'K',
    [0x26] = 'L', [0x27] = ':', [0x28] = '"', [0x29] = '~', [0x2b] = '|', [0x2c] = 'Z',
    [0x2d] = 'X', [0x2e] = 'C', [0x2f] = 'V', [0x30] = 'B', [0x31] = 'N', [0x32] = 'M',
    [0x33] = '<', [0x34] = '>', [0x35] = '?', [0x37] = '*', [0x39] = ' ',
    [0x47] = '7', [0x48] = '8', [0x49] = '9', [0x4a] = '-', [0x4b] = '4', [0x4c] = '5',
    [0x4d] = '6', [0x4e] = '+', [0x4f] = '1', [0x50] = '2', [0x51] = '3', [0x52] = '0',
    [0x53] = '.',
};

#define SC_CTRL 0x1d
#define SC_SHIFT_LEFT 0x2a
#define SC_SHIFT_RIGHT 0x36
#define SC_ALT 0x38
#define SC_CAPS_LOCK 0x3a
#define SC_BREAK 0x80

static unsigned put(char out[KEYMAP_OUT_MAX], const char *seq)
{
    unsigned n = 0;
    for (; seq[n] && n < KEYMAP_OUT_MAX; n++)
        out[n] = seq[n];
    return n;
}

/* Extended (0xe0-prefixed) keys that type something or act. */
static unsigned extended_key(struct keymap_state *s, uint8_t make, char out[KEYMAP_OUT_MAX],
                             enum keymap_action *action)
{
    bool shift = s->shift_left || s->shift_right;
    switch (make) {
    case 0x1c: return put(out, "\r");  /* keypad Enter */
    case 0x35: return put(out, "/");   /* keypad / */
    case 0x48: return put(out, "\x1b[A");
    case 0x50: return put(out, "\x1b[B");
    case 0x4d: return put(out, "\x1b[C");
    case 0x4b: return put(out, "\x1b[D");
    case 0x47:
        if (shift) {
            *action = KEYMAP_SCROLL_OLDEST;
            return 0;
        }
        return put(out, "\x1b[H");
    case 0x4f:
        if (shift) {
            *action = KEYMAP_SCROLL_NEWEST;
            return 0;
        }
        return put(out, "\x1b[F");
    case 0x52: return put(out, "\x1b[2~");
    case 0x53: return put(out, "\x1b[3~");
    case 0x49:
        if (shift) {
            *action = KEYMAP_SCROLL_BACK;
            return 0;
        }
        return put(out, "\x1b[5~");
    case 0x51:
        if (shift) {
            *action = KEYMAP_SCROLL_FORWARD;
            return 0;
        }
        return put(out, "\x1b[6~");
    default: return 0; /* fake shifts (0x2a, 0x36), Windows keys, media keys */
    }
}

unsigned keymap_feed(struct keymap_state *s, uint8_t code, char out[KEYMAP_OUT_MAX],
                     enum keymap_action *action)
{
    *action = KEYMAP_NONE;
    if (s->skip) {
        s->skip--;
        return 0;
    }
    if (code == 0xe0) {
        s->extended = true;
        return 0;
    }
    if (code == 0xe1) {
        s->skip = 5; /* Pause: e1 1d 45 e1 9d c5, a key with no release */
        s->extended = false;
        return 0;
    }
    bool extended = s->extended;
    s->extended = false;
    bool released = code & SC_BREAK;
    uint8_t make = code & (uint8_t)~SC_BREAK;

    /* Modifiers: pressed while held, left and right apart so that letting
     * go of one does not cancel the other. */
    switch (make) {
    case SC_CTRL:
        *(extended ? &s->ctrl_right : &s->ctrl_left) = !released;
        return 0;
    case SC_ALT:
        *(extended ? &s->alt_right : &s->alt_left) = !released;
        return 0;
    case SC_SHIFT_LEFT:
    case SC_SHIFT_RIGHT:
        if (extended)
            return 0; /* the fake shifts some keyboards wrap extended keys in */
        *(make == SC_SHIFT_LEFT ? &s->shift_left : &s->shift_right) = !released;
        return 0;
    case SC_CAPS_LOCK:
        if (!released && !extended)
            s->caps_lock = !s->caps_lock;
        return 0;
    default:
        break;
    }
    if (released)
        return 0;
    if (extended)
        return extended_key(s, make, out, action);
    if (make >= sizeof(plain) || !plain[make])
        return 0; /* function keys, Num Lock, Scroll Lock, 0x00 and 0xfa-0xff replies */

    bool shift = s->shift_left || s->shift_right;
    char c = shift ? shifted[make] : plain[make];
    if (c >= 'a' && c <= 'z' && s->caps_lock)
        c = (char)(c - 'a' + 'A');
    else if (c >= 'A' && c <= 'Z' && s->caps_lock)
        c = (char)(c - 'A' + 'a');
    if (s->ctrl_left || s->ctrl_right) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            c = (char)(c & 0x1f);
        else if (c == '@' || c == '2' || c == ' ')
            c = 0; /* Ctrl-@, Ctrl-Space: NUL, as terminals send */
        else if (c == '[' || c == ']' || c == '\\')
            c = (char)(c & 0x1f);
    }
    /* Alt as a terminal's Meta: ESC before the key. */
    if (s->alt_left || s->alt_right) {
        out[0] = 0x1b;
        out[1] = c;
        return 2;
    }
    out[0] = c;
    return 1;
}
