/* PC keyboard scan codes (set 1, as the i8042 hands them over with its
 * translation on: hv/console/ps2.c) to the bytes a terminal on the serial
 * line would send for the same keys, US layout: letters with Shift and Caps
 * Lock, Ctrl+letter as a control byte (Ctrl-A is 0x01, so the serial line's
 * focus keys work as they are), Enter as '\r', Backspace as 0x7f, the
 * cursor and editing keys as VT100/xterm escape sequences. Shift+Page Up,
 * Shift+Page Down, Shift+Home and Shift+End type nothing: they scroll hv's
 * screen.
 * Pure: host unit tests feed it scan codes. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define KEYMAP_OUT_MAX 4 /* longest sequence a key types: ESC [ 5 ~ */

enum keymap_action {
    KEYMAP_NONE = 0,
    KEYMAP_SCROLL_BACK,    /* Shift+Page Up: show older lines */
    KEYMAP_SCROLL_FORWARD, /* Shift+Page Down: back towards the newest */
    KEYMAP_SCROLL_OLDEST,  /* Shift+Home: the oldest line kept */
    KEYMAP_SCROLL_NEWEST,  /* Shift+End: the newest, as if never scrolled */
};

struct keymap_state {
    bool shift_left, shift_right, ctrl_left, ctrl_right, alt_left, alt_right;
    bool caps_lock;
    bool extended;     /* an 0xe0 prefix came: the next code is an extended key */
    uint8_t skip;      /* bytes of an 0xe1 (Pause) sequence still to ignore */
};

/* Takes one byte from the keyboard. Writes the bytes the key types to out
 * (at most KEYMAP_OUT_MAX) and returns how many (0 for releases, modifiers,
 * unknown codes, acknowledgements); *action says whether the key asks hv
 * for something instead. */
unsigned keymap_feed(struct keymap_state *s, uint8_t code, char out[KEYMAP_OUT_MAX],
                     enum keymap_action *action);
