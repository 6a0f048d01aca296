/* The core's function table, the one panic reports read names from.
 *
 * The build (tools/symtab_pack.c) writes it into a section of its own in the
 * copy of the core the stub carries, in place of the ELF symbol table: the
 * ELF one spends 24 bytes an entry, this one about 2.5, which with its names
 * packs some 4 KB smaller inside hv.efi.
 *
 * Layout (little-endian): a struct symtab_header, then nums_size bytes of
 * numbers, then names_size bytes of names. The entries are sorted by start
 * address. The numbers are three runs of `count` each: every entry's
 * zigzag-encoded gap from the end of the entry before (from `base` for the
 * first) to its start, as ULEB128; every entry's size's low byte, one byte
 * each; every entry's size shifted right by 8, as ULEB128 (size 0: unknown,
 * the entry reaches to any address above its start). The names area holds
 * one NUL-terminated name an entry, in the same order (a GCC clone or
 * split-off part, f.cold or f.constprop.0, under its function's name f).
 * Gaps, not starts, because functions follow one another: with
 * -falign-functions=1 nearly every gap is 0, and apart from the sizes the
 * zeros are one run, which packs to a few bytes (interleaved with the
 * sizes, 500 bytes more in hv.efi). The sizes' low bytes are as good as
 * random and their high parts mostly 0 to 3: apart, the high parts pack
 * to a run of small values and the low bytes cost a byte each, 97 packed
 * bytes fewer than the sizes as ULEB128 (whose first byte mixes the two). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYMTAB_MAGIC 0x59535648u /* "HVSY" */

struct symtab_header {
    uint32_t magic;
    uint32_t count;
    uint64_t base;
    uint32_t nums_size;
    uint32_t names_size;
};

struct symtab {
    const uint8_t *nums;
    const char *names;
    size_t nums_size, names_size;
    uint32_t count;
    uint64_t base;
    size_t low_at, high_at; /* where in nums the sizes' low bytes and high parts start */
};

/* Checks a table whole (every entry decodes inside its area, each area used
 * exactly) and fills *t; false, *t untouched, for anything else. */
bool symtab_open(struct symtab *t, const void *blob, size_t size);
/* The entry with the highest start <= addr, its name and addr's offset into
 * it; NULL if none, or if addr lies past that entry's size. */
const char *symtab_lookup(const struct symtab *t, uint64_t addr, uint64_t *offset);
