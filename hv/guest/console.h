/* A guest's console: bytes from the console-write hypercall are collected
 * into lines, and each whole line is logged at once as "[name] text", so
 * lines of different guests never interleave mid-line. A rate limit keeps a
 * flooding guest from monopolising the (slow, on real hardware) consoles. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct guest;

void guest_console_init(struct guest *g);
/* Takes up to `n` bytes; returns how many, or -HV_EAGAIN when the guest is
 * over its rate for now. */
int64_t guest_console_write(struct guest *g, const char *buf, size_t n);
/* Logs a partial line (at guest end). */
void guest_console_flush(struct guest *g);
