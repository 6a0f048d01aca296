/* The console's echo rule (hv/xen/xen_console.c), pure so that it can be
 * unit-tested (tests/unit/test_xen_echo.c). A Xen guest may write the same
 * text through console_io and through its ring, in either order (XTF a
 * line to console_io, then the ring; Unikraft each piece to the ring, then
 * console_io). The window holds the bytes one way printed last; the other
 * way's bytes are its echo when their first ones, CRs aside, repeat the
 * window's last ones: as many as the window holds, or all of them if fewer.
 * Whole or not at all, so that text which merely starts alike is printed. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* How many of the `avail` bytes at in[(start + i) & mask] are the echo of
 * the window's last bytes (CRs among them counted, so the caller can step
 * past them), or 0. Bounded by avail: the bytes may be the guest's, and
 * may change while they are read (they are read once each). */
static inline uint32_t xen_echo_match(const char *window, uint32_t window_len,
                                      const volatile char *in, uint32_t mask, uint32_t start,
                                      uint32_t avail)
{
    uint32_t text = 0;
    for (uint32_t i = 0; i < avail; i++)
        text += in[(start + i) & mask] != '\r';
    uint32_t want = text < window_len ? text : window_len;
    const char *tail = window + window_len - want;
    uint32_t at = 0, k = 0;
    while (k < want && at < avail) {
        char c = in[(start + at++) & mask];
        if (c == '\r')
            continue;
        if (c != tail[k++])
            return 0;
    }
    return k == want ? at : 0;
}

/* For bytes that do not begin with the echo: where an echo of the whole
 * window at their end begins (CRs before it stay with the text ahead), or
 * avail if they do not end with the window. Unikraft's start: its ring
 * holds a line written before its console_io console existed, then the
 * line console_io printed too. */
static inline uint32_t xen_echo_tail(const char *window, uint32_t window_len,
                                     const volatile char *in, uint32_t mask, uint32_t start,
                                     uint32_t avail)
{
    uint32_t k = window_len, at = avail;
    if (!window_len)
        return avail;
    while (k > 0 && at > 0) {
        char c = in[(start + --at) & mask];
        if (c == '\r')
            continue;
        if (c != window[--k])
            return avail;
    }
    return k == 0 ? at : avail;
}
