/* Physical memory maps: firmware hands over ranges in any shape (unsorted,
 * overlapping, unaligned, empty, wrapping); memmap_normalize turns them into
 * one canonical form that the rest of hv can trust. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ordered by how strongly a page is withheld: where entries overlap, the
 * higher value wins, so USABLE (lowest) never overrides anything. */
enum mem_kind {
    MEM_USABLE = 1,
    MEM_BOOTLOADER,   /* in use by hv's own loaded data, never handed out */
    MEM_RUNTIME,      /* firmware runtime code/data */
    MEM_ACPI_RECLAIM,
    MEM_ACPI_NVS,
    MEM_MMIO,
    MEM_RESERVED,
    MEM_UNUSABLE,     /* bad RAM, persistent memory etc */
};

struct mem_range {
    uint64_t base;
    uint64_t size;
    uint32_t kind; /* enum mem_kind */
};

/* Short lower-case name ("usable", "reserved", ...); "unknown" otherwise. */
const char *mem_kind_name(uint32_t kind);

/* Normalises r[0..n) in place into a map where:
 *   - entries are sorted by base, never overlap, and none is empty;
 *   - every base and size is a multiple of 4 KiB, and base + size never
 *     overflows (nothing is described at or above 2^64 - 4 KiB: a range that
 *     wraps past 2^64, or reaches into the top page, is clipped below it);
 *   - USABLE ranges were shrunk inward to whole pages, all other kinds grown
 *     outward, so a partly usable page is not usable;
 *   - a page claimed by several entries gets the highest kind among them;
 *   - touching ranges of the same kind are merged;
 *   - kinds outside enum mem_kind (0 included) are treated as MEM_RESERVED.
 * Uses only r[0..cap), which must be writable; never more than that.
 *
 * Return value (call it k):
 *   0 < k < cap   the exact normalised map is r[0..k).
 *   k == cap      r[0..k) is valid and every non-usable page is still there
 *                 with its exact kind, but it may be the exact map or one
 *                 from which usable pieces were dropped (left as holes)
 *                 because the exact one needs more than cap entries: each
 *                 time the smallest piece at either end of a usable range
 *                 goes (like readlink, a full buffer may mean truncation).
 *   k == 0        nothing to describe (n == 0, r == NULL, all entries empty),
 *                 or failure: cap < n, or the non-usable ranges alone need
 *                 more than cap entries. On failure r is left untouched.
 * cap >= 2 * n - 1 always suffices for an exact result; use
 * memmap_normalized_count() to learn the exact need beforehand.
 * Cost: O(n^2) time, or O(n^3) only when usable pieces have to be dropped;
 * no recursion, no allocation. */
size_t memmap_normalize(struct mem_range *r, size_t n, size_t cap);

/* How many entries memmap_normalize(r, n, cap) produces for a large enough
 * cap. Reads r only. */
size_t memmap_normalized_count(const struct mem_range *r, size_t n);

/* Sum of the sizes of the USABLE entries (saturates at UINT64_MAX). */
uint64_t memmap_usable_bytes(const struct mem_range *r, size_t n);
