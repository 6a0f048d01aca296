/* printf-style formatting shared by the hypervisor and guests: freestanding,
 * no floating point, no allocation.
 *
 * Supported: %d %i %u %x %X %o %p %s %c %%, flags '-' '0' '+' ' ' '#',
 * width and precision (also '*'), length modifiers hh h l ll z j t.
 * Behaviour follows C99 printf (and glibc where C leaves it open: '0' is
 * ignored for %s and %c, '+'/' ' for unsigned conversions, '#' for %d/%i/%u),
 * with these deliberate differences:
 *   - %p always prints "0x" and 16 hex digits (NULL too); '-' and width apply,
 *     other flags, precision and length modifiers are ignored.
 *   - %s with NULL prints "(null)", cut by the precision like any string.
 *   - %% ignores flags and width.
 *   - An unknown or incomplete conversion (e.g. "%y", "%5", "%lc", "%ls") is
 *     printed verbatim. '*' arguments it named are consumed; for %lc and %ls
 *     the wide argument is consumed too, so later arguments stay aligned.
 *   - Width and precision saturate at 0x7fffffff.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

/* Receives output in pieces; n is never 0 and s is not NUL-terminated. */
typedef void (*fmt_sink)(void *arg, const char *s, size_t n);

/* Streams the formatted output to sink; returns the total length emitted
 * (saturating at SIZE_MAX, which no real output reaches). */
size_t fmt_vprint(fmt_sink sink, void *arg, const char *fmt, va_list ap);

/* snprintf semantics: writes at most size - 1 characters plus a NUL when
 * size > 0 (buf may be NULL when size == 0) and returns the length the full
 * output would have, so a return value >= size means it was truncated. */
size_t fmt_vformat(char *buf, size_t size, const char *fmt, va_list ap);
size_t fmt_format(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
