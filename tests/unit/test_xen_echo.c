/* The console's echo rule (hv/xen/xen_echo.h): the other way's first bytes,
 * CRs aside, are an echo when they repeat the window's last ones (as many
 * as the window holds, or all of them if fewer); whole or not at all. */
#include "hv/xen/xen_echo.h"

#include <string.h>

#include "tests/unit/check.h"

static uint32_t flat(const char *window, const char *in)
{
    return xen_echo_match(window, (uint32_t)strlen(window), in, ~0u, 0, (uint32_t)strlen(in));
}

static void xtf_line_then_the_ring(void)
{
    /* console_io printed a line; the ring brings it with CR LF. */
    CHECK_EQ_U64(flat("Hello World\n", "Hello World\r\n"), 13);
    /* Older console_io text before it in the window: the tail counts. */
    CHECK_EQ_U64(flat("older line\nHello World\n", "Hello World\r\n"), 13);
}

static void unikraft_piece_by_piece(void)
{
    /* The ring printed a piece; console_io repeats it. */
    CHECK_EQ_U64(flat("text of many pieces [ 0.1] ", "[ 0.1] "), 7);
    CHECK_EQ_U64(flat("Info: ", "Info: "), 6);
}

static void the_echo_then_new_text(void)
{
    /* The window whole at the start, then more: the window's bytes only. */
    CHECK_EQ_U64(flat("line A\n", "line A\r\nline B\r\n"), 8);
}

static void a_difference_is_no_echo(void)
{
    CHECK_EQ_U64(flat("Hello World\n", "Hello Earth\r\n"), 0);
    /* Starts like the window's tail, then differs: printed whole. */
    CHECK_EQ_U64(flat("[ 0.192] x", "[ 0.046] x"), 0);
    CHECK_EQ_U64(flat("", "anything"), 0);
    CHECK_EQ_U64(flat("window", ""), 0);
    CHECK_EQ_U64(flat("window", "\r\r"), 0); /* no text: nothing to match */
}

static void the_ring_wraps(void)
{
    /* An 8-byte ring holding "ab\r\ncd" from index 6: wraps at 8. */
    char ring[8] = {'c', 'd', '?', '?', '?', '?', 'a', 'b'};
    char wrapped[8];
    memcpy(wrapped, ring, 8);
    wrapped[0] = '\r', wrapped[1] = '\n', wrapped[2] = 'c', wrapped[3] = 'd';
    CHECK_EQ_U64(xen_echo_match("xab\ncd", 6, wrapped, 7, 6, 6), 6);
    /* Longer than the window, the input must begin with all of it:
     * "abcd" does not begin with "xab", though the window ends in "ab". */
    CHECK_EQ_U64(xen_echo_match("xab", 3, ring, 7, 6, 4), 0);
    CHECK_EQ_U64(xen_echo_match("ab", 2, ring, 7, 6, 4), 2);
}

static void bounded_by_avail(void)
{
    /* Fewer bytes than the window: only they are compared and taken. */
    CHECK_EQ_U64(flat("a long window ending in abc", "abc"), 3);
    /* A huge window against a short input never reads past the input. */
    char big[1024];
    memset(big, 'z', sizeof(big));
    CHECK_EQ_U64(xen_echo_match(big, sizeof(big), "zz\rz", ~0u, 0, 4), 4);
}

static uint32_t tail(const char *window, const char *in)
{
    return xen_echo_tail(window, (uint32_t)strlen(window), in, ~0u, 0, (uint32_t)strlen(in));
}

static void an_echo_at_the_end(void)
{
    /* Unikraft's start: con0's line only in the ring, then con1's, which
     * console_io printed too: print up to index 11, take the rest. */
    CHECK_EQ_U64(tail("con1 line\n", "con0 line\r\ncon1 line\r\n"), 11);
    CHECK_EQ_U64(tail("con1 line\n", "con0 line\r\ncon2 line\r\n"), 22); /* none: all */
    CHECK_EQ_U64(tail("", "text\r\n"), 6);
    CHECK_EQ_U64(tail("a longer window than the bytes\n", "bytes\r\n"), 7);
    /* A wrapping ring: "xy" + "ab" from index 6 of 8, the window "ab". */
    char ring[8] = {'a', 'b', '?', '?', '?', '?', 'x', 'y'};
    CHECK_EQ_U64(xen_echo_tail("ab", 2, ring, 7, 6, 4), 2);
}

int main(void)
{
    check_suite = "xen_echo";
    RUN_TEST(xtf_line_then_the_ring);
    RUN_TEST(unikraft_piece_by_piece);
    RUN_TEST(the_echo_then_new_text);
    RUN_TEST(a_difference_is_no_echo);
    RUN_TEST(the_ring_wraps);
    RUN_TEST(bounded_by_avail);
    RUN_TEST(an_echo_at_the_end);
    return check_finish();
}
