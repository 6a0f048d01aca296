#include "lib/fmt.h"

#include <stdbool.h>
#include <stdint.h>

/* Keeps "%999999999999d" from wrapping the width arithmetic. */
#define FMT_FIELD_MAX 0x7fffffffu

enum {
    FLAG_LEFT = 1u << 0,
    FLAG_ZERO = 1u << 1,
    FLAG_PLUS = 1u << 2,
    FLAG_SPACE = 1u << 3,
    FLAG_ALT = 1u << 4,
};

enum fmt_length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T };

struct fmt_spec {
    unsigned flags;
    size_t width;
    size_t precision;
    bool has_precision;
    enum fmt_length length;
};

struct fmt_out {
    fmt_sink sink;
    void *arg;
    size_t total;
};

static void out_chars(struct fmt_out *out, const char *s, size_t n)
{
    if (n == 0)
        return;
    out->sink(out->arg, s, n);
    out->total = (out->total > SIZE_MAX - n) ? SIZE_MAX : out->total + n;
}

/* Padding is streamed from a small constant block so a huge width needs
 * neither a huge buffer nor one sink call per character. */
static void out_repeat(struct fmt_out *out, char c, size_t count)
{
    static const char spaces[] = "                                ";
    static const char zeros[] = "00000000000000000000000000000000";
    const char *block = (c == '0') ? zeros : spaces;
    const size_t block_len = sizeof(spaces) - 1;

    while (count > 0) {
        size_t n = count < block_len ? count : block_len;
        out_chars(out, block, n);
        count -= n;
    }
}

static size_t saturating_digit_append(size_t value, char digit)
{
    value = value * 10 + (size_t)(digit - '0');
    return value > FMT_FIELD_MAX ? FMT_FIELD_MAX : value;
}

static size_t magnitude_of_int(int value)
{
    size_t mag = value < 0 ? (size_t)0 - (size_t)value : (size_t)value;
    return mag > FMT_FIELD_MAX ? FMT_FIELD_MAX : mag;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Layout: [spaces][sign][prefix][zeros][digits][spaces]. The file is
 * built for size (the Makefile's CORE_COLD_SRCS); the digit loop, where
 * most of a log line's formatting goes, is not: hv's exit log lines are
 * formatted with interrupts off (hv_irq_off_max, docs/benchmarks.md). */
#ifdef __clang__
#define FMT_DIGIT_LOOP_O2 /* clang has no per-function -O (the fuzzers build this file) */
#else
#define FMT_DIGIT_LOOP_O2 __attribute__((optimize("O2")))
#endif
FMT_DIGIT_LOOP_O2 static void emit_integer(struct fmt_out *out, const struct fmt_spec *spec,
                         uintmax_t magnitude, char sign, const char *prefix,
                         unsigned base, bool upper)
{
    const char *digit_set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char digits[3 * sizeof(uintmax_t)];
    size_t first = sizeof(digits);
    size_t precision = spec->has_precision ? spec->precision : 1;

    if (!(magnitude == 0 && precision == 0)) {
        do {
            digits[--first] = digit_set[magnitude % base];
            magnitude /= base;
        } while (magnitude != 0);
    }
    size_t ndigits = sizeof(digits) - first;

    size_t prefix_len = 0;
    while (prefix[prefix_len] != '\0')
        prefix_len++;

    size_t zeros = precision > ndigits ? precision - ndigits : 0;
    /* '#' with %o promises a leading 0, even when the precision hid it. */
    if (base == 8 && (spec->flags & FLAG_ALT) && zeros == 0 &&
        (ndigits == 0 || digits[first] != '0'))
        zeros = 1;

    size_t body = (sign ? 1 : 0) + prefix_len + zeros + ndigits;
    if ((spec->flags & FLAG_ZERO) && !(spec->flags & FLAG_LEFT) &&
        !spec->has_precision && spec->width > body) {
        zeros += spec->width - body;
        body = spec->width;
    }
    size_t pad = spec->width > body ? spec->width - body : 0;

    if (!(spec->flags & FLAG_LEFT))
        out_repeat(out, ' ', pad);
    if (sign)
        out_chars(out, &sign, 1);
    out_chars(out, prefix, prefix_len);
    out_repeat(out, '0', zeros);
    out_chars(out, digits + first, ndigits);
    if (spec->flags & FLAG_LEFT)
        out_repeat(out, ' ', pad);
}

static void emit_padded(struct fmt_out *out, const struct fmt_spec *spec,
                        const char *s, size_t n)
{
    size_t pad = spec->width > n ? spec->width - n : 0;

    if (!(spec->flags & FLAG_LEFT))
        out_repeat(out, ' ', pad);
    out_chars(out, s, n);
    if (spec->flags & FLAG_LEFT)
        out_repeat(out, ' ', pad);
}

static intmax_t fetch_signed(va_list *ap, enum fmt_length length)
{
    switch (length) {
    case LEN_HH: return (signed char)va_arg(*ap, int);
    case LEN_H: return (short)va_arg(*ap, int);
    case LEN_L: return va_arg(*ap, long);
    case LEN_LL: return va_arg(*ap, long long);
    case LEN_Z: return va_arg(*ap, ptrdiff_t); /* signed twin of size_t */
    case LEN_J: return va_arg(*ap, intmax_t);
    case LEN_T: return va_arg(*ap, ptrdiff_t);
    case LEN_NONE: break;
    }
    return va_arg(*ap, int);
}

static uintmax_t fetch_unsigned(va_list *ap, enum fmt_length length)
{
    switch (length) {
    case LEN_HH: return (unsigned char)va_arg(*ap, unsigned int);
    case LEN_H: return (unsigned short)va_arg(*ap, unsigned int);
    case LEN_L: return va_arg(*ap, unsigned long);
    case LEN_LL: return va_arg(*ap, unsigned long long);
    case LEN_Z: return va_arg(*ap, size_t);
    case LEN_J: return va_arg(*ap, uintmax_t);
    case LEN_T: return va_arg(*ap, size_t); /* unsigned twin of ptrdiff_t */
    case LEN_NONE: break;
    }
    return va_arg(*ap, unsigned int);
}

/* Parses flags, width, precision and length after the '%'; returns the
 * position of the conversion character. */
static const char *parse_spec(const char *p, struct fmt_spec *spec, va_list *ap)
{
    *spec = (struct fmt_spec){0};

    for (;; p++) {
        if (*p == '-') spec->flags |= FLAG_LEFT;
        else if (*p == '0') spec->flags |= FLAG_ZERO;
        else if (*p == '+') spec->flags |= FLAG_PLUS;
        else if (*p == ' ') spec->flags |= FLAG_SPACE;
        else if (*p == '#') spec->flags |= FLAG_ALT;
        else break;
    }

    if (*p == '*') {
        int width = va_arg(*ap, int);
        if (width < 0)
            spec->flags |= FLAG_LEFT;
        spec->width = magnitude_of_int(width);
        p++;
    } else {
        while (is_digit(*p))
            spec->width = saturating_digit_append(spec->width, *p++);
    }

    if (*p == '.') {
        p++;
        spec->has_precision = true;
        if (*p == '*') {
            int precision = va_arg(*ap, int);
            /* A negative precision argument counts as no precision. */
            spec->has_precision = precision >= 0;
            spec->precision = spec->has_precision ? magnitude_of_int(precision) : 0;
            p++;
        } else {
            while (is_digit(*p))
                spec->precision = saturating_digit_append(spec->precision, *p++);
        }
    }

    switch (*p) {
    case 'h':
        if (p[1] == 'h') { spec->length = LEN_HH; p += 2; }
        else { spec->length = LEN_H; p++; }
        break;
    case 'l':
        if (p[1] == 'l') { spec->length = LEN_LL; p += 2; }
        else { spec->length = LEN_L; p++; }
        break;
    case 'z': spec->length = LEN_Z; p++; break;
    case 'j': spec->length = LEN_J; p++; break;
    case 't': spec->length = LEN_T; p++; break;
    default: break;
    }
    return p;
}

/* Handles one conversion; returns false if it is unknown and must be echoed. */
static bool emit_conversion(struct fmt_out *out, struct fmt_spec *spec,
                            char conv, va_list *ap)
{
    switch (conv) {
    case 'd':
    case 'i': {
        intmax_t value = fetch_signed(ap, spec->length);
        uintmax_t magnitude = value < 0 ? (uintmax_t)0 - (uintmax_t)value
                                        : (uintmax_t)value;
        char sign = value < 0 ? '-'
                    : (spec->flags & FLAG_PLUS) ? '+'
                    : (spec->flags & FLAG_SPACE) ? ' ' : 0;
        emit_integer(out, spec, magnitude, sign, "", 10, false);
        return true;
    }
    case 'u':
        emit_integer(out, spec, fetch_unsigned(ap, spec->length), 0, "", 10, false);
        return true;
    case 'o':
        emit_integer(out, spec, fetch_unsigned(ap, spec->length), 0, "", 8, false);
        return true;
    case 'x':
    case 'X': {
        uintmax_t value = fetch_unsigned(ap, spec->length);
        const char *prefix = "";
        if ((spec->flags & FLAG_ALT) && value != 0)
            prefix = conv == 'x' ? "0x" : "0X";
        emit_integer(out, spec, value, 0, prefix, 16, conv == 'X');
        return true;
    }
    case 'p': {
        uintptr_t value = (uintptr_t)va_arg(*ap, void *);
        spec->flags &= FLAG_LEFT;
        spec->has_precision = true;
        spec->precision = 2 * sizeof(uintptr_t);
        emit_integer(out, spec, value, 0, "0x", 16, false);
        return true;
    }
    case 'c': {
        if (spec->length != LEN_NONE) {
            (void)va_arg(*ap, unsigned int); /* wint_t promotes to this */
            return false;
        }
        char c = (char)va_arg(*ap, int);
        emit_padded(out, spec, &c, 1);
        return true;
    }
    case 's': {
        const char *s = va_arg(*ap, const char *);
        if (spec->length != LEN_NONE)
            return false;
        if (s == NULL)
            s = "(null)";
        /* Bounded so a precision lets s be an unterminated array. */
        size_t limit = spec->has_precision ? spec->precision : SIZE_MAX;
        size_t n = 0;
        while (n < limit && s[n] != '\0')
            n++;
        emit_padded(out, spec, s, n);
        return true;
    }
    case '%':
        out_chars(out, "%", 1);
        return true;
    default:
        return false;
    }
}

size_t fmt_vprint(fmt_sink sink, void *arg, const char *fmt, va_list ap)
{
    struct fmt_out out = { .sink = sink, .arg = arg, .total = 0 };
    va_list args;
    const char *p = fmt;

    /* A copy lets helpers take va_list by pointer portably (va_list may be
     * an array type, which a parameter silently turns into a pointer). */
    va_copy(args, ap);
    while (*p != '\0') {
        const char *literal = p;
        while (*p != '\0' && *p != '%')
            p++;
        out_chars(&out, literal, (size_t)(p - literal));
        if (*p == '\0')
            break;

        const char *spec_start = p;
        struct fmt_spec spec;
        p = parse_spec(p + 1, &spec, &args);
        if (*p == '\0') {
            out_chars(&out, spec_start, (size_t)(p - spec_start));
            break;
        }
        char conv = *p++;
        if (!emit_conversion(&out, &spec, conv, &args))
            out_chars(&out, spec_start, (size_t)(p - spec_start));
    }
    va_end(args);
    return out.total;
}

struct buffer_sink {
    char *buf;
    size_t size;
    size_t used; /* characters stored, always < size when size > 0 */
};

static void buffer_write(void *arg, const char *s, size_t n)
{
    struct buffer_sink *b = arg;

    if (b->size == 0)
        return;
    size_t room = b->size - 1 - b->used;
    if (n > room)
        n = room;
    for (size_t i = 0; i < n; i++)
        b->buf[b->used + i] = s[i];
    b->used += n;
}

size_t fmt_vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buffer_sink sink = { .buf = buf, .size = buf ? size : 0, .used = 0 };
    size_t total = fmt_vprint(buffer_write, &sink, fmt, ap);

    if (sink.size > 0)
        buf[sink.used] = '\0';
    return total;
}

size_t fmt_format(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t total = fmt_vformat(buf, size, fmt, ap);
    va_end(ap);
    return total;
}
