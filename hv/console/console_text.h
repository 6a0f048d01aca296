/* What a guest's console bytes become: printable text in lines of at most
 * CONSOLE_TEXT_MAX characters, each line charged its bytes on the serial
 * line (the label hv puts in front, the text, CR LF) before any of it is
 * taken. Pure: host unit tests run it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CONSOLE_TEXT_MAX 160

struct console_text {
    char text[CONSOLE_TEXT_MAX]; /* the line being written, sanitized */
    uint32_t len;
};

/* A finished line (without its newline); `len` may be 0 (an empty line). */
typedef void (*console_text_commit)(void *arg, const char *text, size_t len);

/* Takes bytes of `in` in order while *budget covers their cost: a line
 * costs `line_cost` (label and CR LF) when its first byte (or its newline,
 * for an empty line) is taken, and every character 1 more; a newline ends
 * the line; a character arriving at a full line ends it first and starts
 * the next. Control characters become '?', tab a space, bytes >= 0x7f '?',
 * so no guest can drive the terminal. Calls commit for each line it ends,
 * at most `max_lines` times (then it stops before the byte that would end
 * one more: a call's work stays bounded however short the lines);
 * lowers *budget by what it charged; returns the number of bytes taken. */
size_t console_text_take(struct console_text *t, const char *in, size_t n, uint64_t *budget,
                         uint32_t line_cost, uint32_t max_lines, console_text_commit commit,
                         void *arg);

/* Copies src[0..k) into dst as console_text_take sanitizes it, stopping
 * before the first newline; returns the bytes copied (k if there is no
 * newline). dst must have room for k bytes: it may be written beyond the
 * newline. The step console_text_take makes for each run of a line, for a
 * caller that writes a whole line in place. */
size_t console_text_copy_line(char *dst, const char *src, size_t k);

/* The output bytes of a line of `len` characters. */
static inline uint64_t console_line_bytes(uint32_t line_cost, size_t len)
{
    return line_cost + len;
}
