/* Writes the function table of hv/debug/symtab.h (for tools/symtab_pack.c
 * and the unit test). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct symtab_entry {
    uint64_t start, size;
    const char *name;
};

/* Sorts e[] by start (then name) and writes the table to out (cap bytes);
 * returns its size, or 0 if it does not fit or n is over UINT32_MAX. */
size_t symtab_encode(struct symtab_entry *e, size_t n, uint8_t *out, size_t cap);
