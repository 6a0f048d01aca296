/* A guest's console output. HV_CALL_CONSOLE_WRITE does bounded work: the
 * bytes are sanitized into the line being written, each finished line goes
 * whole, as "[name] text", into the guest's own bounded buffer, and the call
 * returns; hv/console/log.c sends the buffers to the serial line and the
 * screen later, round robin between guests, so lines never interleave
 * mid-line and a flooding guest cannot hold hv or starve the others. A rate
 * limit in output bytes (label and CR LF included) refuses what the line
 * could not carry; a line that finds the buffer full is dropped and counted
 * (the end-of-run summary reports it). docs/abi.md has the figures. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest;

void guest_console_init(struct guest *g);
/* Takes up to `n` bytes; returns how many, or -HV_EAGAIN when the guest is
 * over its rate for now. */
int64_t guest_console_write(struct guest *g, const char *buf, size_t n);
/* At the guest's end: queues its unfinished line; its buffer is freed once
 * its lines are out. */
void guest_console_flush(struct guest *g);
/* The guest ended and will be restarted: its unfinished line goes out,
 * the console stays open for its next life (same label, same rate). */
void guest_console_break(struct guest *g);
/* kmalloc bytes its console holds now (its output buffer, until the log
 * has sent a closed console's last line): for hv's leak check. */
uint64_t guest_console_held_bytes(const struct guest *g);
/* A guest that is torn down without its output (it never ran). */
void guest_console_discard(struct guest *g);
/* Console input (hv/console/input.c's poll delivers it): one byte queued
 * for the guest, false if its buffer is full. */
bool guest_console_input_put(struct guest *g, char c);
/* HV_CALL_CONSOLE_READ in two halves, so no lock is held while the bytes
 * are copied to the guest (the copy can fault): up to n waiting bytes
 * copied into buf without taking them, and *mark set; then, once the copy
 * worked, guest_console_input_take removes them, unless another vCPU of
 * the guest took bytes in between (false: the caller's copy is stale). */
size_t guest_console_input_peek(struct guest *g, char *buf, size_t n, uint64_t *mark);
bool guest_console_input_take(struct guest *g, size_t n, uint64_t mark);
/* Output bytes lost because its buffer was full. */
uint64_t guest_console_dropped(const struct guest *g);
