/* The end of the road for a hypervisor bug: a report on every console, then
 * the machine stops (powered off with a failure status where the QEMU
 * runner asked for that, otherwise halted with the report left on screen). */
#pragma once

#include "hv/cpu/trap.h"

void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void panic_trap(const struct trap_frame *f) __attribute__((noreturn));
