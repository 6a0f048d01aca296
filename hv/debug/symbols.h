/* Names for code addresses, read from the function table (hv/debug/symtab.h)
 * the build puts in the copy of the core the stub hands over, so a panic
 * shows a readable trace. */
#pragma once

#include <stddef.h>
#include <stdint.h>

void symbols_init(const void *elf, size_t size);
/* The function containing addr and the offset into it, or NULL. */
const char *symbols_lookup(uint64_t addr, uint64_t *offset);
