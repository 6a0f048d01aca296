/* The status line at the top of the screen: hv's version, the CPUs it uses,
 * uptime, and each guest's state and share of the CPU, above the scrolling
 * log. The screen console composes it from the idle loop (fbcon.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* How many CPUs the machine has (ACPI) and how many hv uses. */
void status_line_set_cpus(uint32_t used, uint32_t total);
/* Writes the line (NUL-terminated, at most cap - 1 characters). */
void status_line_compose(char *buf, size_t cap, uint64_t now_ns);
