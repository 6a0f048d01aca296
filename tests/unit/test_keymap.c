/* hv/console/keymap: scan code set 1 to what a terminal would send: letters
 * with Shift and Caps Lock, Ctrl-A as 0x01 (the focus key), Enter as '\r',
 * extended keys as escape sequences, Shift+Page Up/Down as scroll actions,
 * releases and modifiers typing nothing, the Pause sequence swallowed. */
#include "hv/console/keymap.h"

#include "tests/unit/check.h"

/* Feeds the codes; returns everything typed, NUL-terminated, and the last
 * action seen (KEYMAP_NONE if none). */
static const char *feed(struct keymap_state *s, const uint8_t *codes, size_t n,
                        enum keymap_action *last_action)
{
    static char typed[256];
    size_t len = 0;
    *last_action = KEYMAP_NONE;
    for (size_t i = 0; i < n; i++) {
        char out[KEYMAP_OUT_MAX];
        enum keymap_action a = KEYMAP_NONE;
        unsigned got = keymap_feed(s, codes[i], out, &a);
        CHECK(got <= KEYMAP_OUT_MAX);
        for (unsigned j = 0; j < got && len + 1 < sizeof(typed); j++)
            typed[len++] = out[j];
        if (a != KEYMAP_NONE)
            *last_action = a;
    }
    typed[len] = '\0';
    return typed;
}

#define FEED(s, action, ...)                                                       \
    feed((s), (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), (action))

static void letters_and_digits(void)
{
    struct keymap_state s = {0};
    enum keymap_action a;
    /* h e l l o 1, each pressed and released */
    CHECK_STR_EQ(FEED(&s, &a, 0x23, 0xa3, 0x12, 0x92, 0x26, 0xa6, 0x26, 0xa6, 0x18, 0x98, 0x02,
                      0x82),
                 "hello1");
    CHECK_EQ_U64(a, KEYMAP_NONE);
}

static void shift_and_caps_lock(void)
{
    struct keymap_state s = {0};
    enum keymap_action a;
    /* left shift held: H 1 -> "H!"; released: h */
    CHECK_STR_EQ(FEED(&s, &a, 0x2a, 0x23, 0xa3, 0x02, 0x82, 0xaa, 0x23, 0xa3), "H!h");
    /* right shift held, left pressed and released: still shifted */
    CHECK_STR_EQ(FEED(&s, &a, 0x36, 0x2a, 0xaa, 0x1e, 0x9e, 0xb6, 0x1e, 0x9e), "Aa");
    /* caps lock: letters upper, digits not; with shift, letters lower */
    CHECK_STR_EQ(FEED(&s, &a, 0x3a, 0xba, 0x1e, 0x9e, 0x02, 0x82, 0x2a, 0x1e, 0x9e, 0xaa),
                 "A1a");
    CHECK_STR_EQ(FEED(&s, &a, 0x3a, 0xba, 0x1e, 0x9e), "a");
}

static void control_keys(void)
{
    struct keymap_state s = {0};
    enum keymap_action a;
    /* Ctrl-A n: the focus keys of the serial line */
    CHECK_STR_EQ(FEED(&s, &a, 0x1d, 0x1e, 0x9e, 0x9d, 0x31, 0xb1), "\x01n");
    /* right Ctrl (e0 1d) works too, and its release (e0 9d) ends it */
    CHECK_STR_EQ(FEED(&s, &a, 0xe0, 0x1d, 0x2e, 0xae, 0xe0, 0x9d, 0x2e, 0xae), "\x03" "c");
    /* Enter, Backspace, Tab, Escape */
    CHECK_STR_EQ(FEED(&s, &a, 0x1c, 0x9c, 0x0e, 0x8e, 0x0f, 0x8f, 0x01, 0x81), "\r\x7f\t\x1b");
}

static void extended_keys(void)
{
    struct keymap_state s = {0};
    enum keymap_action a;
    CHECK_STR_EQ(FEED(&s, &a, 0xe0, 0x48, 0xe0, 0xc8), "\x1b[A");
    CHECK_STR_EQ(FEED(&s, &a, 0xe0, 0x49, 0xe0, 0xc9), "\x1b[5~");
    CHECK_EQ_U64(a, KEYMAP_NONE);
    /* keypad Enter and / are extended; keypad 8 is not (Num Lock on) */
    CHECK_STR_EQ(FEED(&s, &a, 0xe0, 0x1c, 0xe0, 0x9c, 0xe0, 0x35, 0xe0, 0xb5, 0x48, 0xc8),
                 "\r/8");
    /* a fake shift around an extended key changes nothing */
    CHECK_STR_EQ(FEED(&s, &a, 0xe0, 0x2a, 0xe0, 0x4b, 0xe0, 0xcb, 0xe0, 0xaa, 0x1e, 0x9e),
                 "\x1b[Da");
}

static void scroll_actions(void)
{
    struct keymap_state s = {0};
    enum keymap_action a;
    CHECK_STR_EQ(FEED(&s, &a, 0x2a, 0xe0, 0x49, 0xe0, 0xc9), "");
    CHECK_EQ_U64(a, KEYMAP_SCROLL_BACK);
    CHECK_STR_EQ(FEED(&s, &a, 0xe0, 0x51, 0xe0, 0xd1, 0xaa), "");
    CHECK_EQ_U64(a, KEYMAP_SCROLL_FORWARD);
    CHECK_STR_EQ(FEED(&s, &a, 0x36, 0xe0, 0x47, 0xe0, 0xc7), "");
    CHECK_EQ_U64(a, KEYMAP_SCROLL_OLDEST);
    CHECK_STR_EQ(FEED(&s, &a, 0xe0, 0x4f, 0xe0, 0xcf, 0xb6), "");
    CHECK_EQ_U64(a, KEYMAP_SCROLL_NEWEST);
    CHECK_STR_EQ(FEED(&s, &a, 0xe0, 0x47, 0xe0, 0xc7, 0xe0, 0x4f, 0xe0, 0xcf), "\x1b[H\x1b[F");
    CHECK_EQ_U64(a, KEYMAP_NONE);
    /* without shift Page Down types its sequence */
    CHECK_STR_EQ(FEED(&s, &a, 0xe0, 0x51, 0xe0, 0xd1), "\x1b[6~");
    CHECK_EQ_U64(a, KEYMAP_NONE);
}

static void alt_is_meta(void)
{
    struct keymap_state s = {0};
    enum keymap_action a;
    CHECK_STR_EQ(FEED(&s, &a, 0x38, 0x1e, 0x9e, 0xb8, 0x1e, 0x9e), "\x1b" "aa");
}

static void noise_types_nothing(void)
{
    struct keymap_state s = {0};
    enum keymap_action a;
    /* Pause (e1 1d 45 e1 9d c5), then a: only a. Replies and errors (ack
     * 0xfa, resend 0xfe, BAT 0xaa, overrun 0x00 / 0xff), F1 (0x3b), Num
     * Lock (0x45) and codes past the table type nothing either. */
    CHECK_STR_EQ(FEED(&s, &a, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5, 0x1e, 0x9e), "a");
    CHECK_STR_EQ(FEED(&s, &a, 0xfa, 0xfe, 0xaa, 0x00, 0xff, 0x3b, 0xbb, 0x45, 0xc5, 0x59, 0x7f),
                 "");
    CHECK(!s.shift_left && !s.shift_right && !s.ctrl_left && !s.alt_left);
    /* every byte value, in any state, stays within bounds */
    for (unsigned prefix = 0; prefix < 3; prefix++)
        for (unsigned c = 0; c < 256; c++) {
            struct keymap_state t = {0};
            t.shift_left = prefix & 1;
            t.extended = prefix & 2;
            char out[KEYMAP_OUT_MAX];
            CHECK(keymap_feed(&t, (uint8_t)c, out, &a) <= KEYMAP_OUT_MAX);
        }
}

int main(void)
{
    check_suite = "keymap";
    RUN_TEST(letters_and_digits);
    RUN_TEST(shift_and_caps_lock);
    RUN_TEST(control_keys);
    RUN_TEST(extended_keys);
    RUN_TEST(scroll_actions);
    RUN_TEST(alt_is_meta);
    RUN_TEST(noise_types_nothing);
    return check_finish();
}
