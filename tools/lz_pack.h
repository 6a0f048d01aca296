/* The hvlz packer (format: lib/lz.h), for build-time tools and tests. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The most bytes lz_pack can write for n input bytes. */
size_t lz_pack_bound(size_t n);
/* Packs in[0..n) into out (lz_pack_bound(n) bytes); returns the packed
 * size, header included, or 0 if n does not fit the header's u32 or memory
 * ran out. */
size_t lz_pack(const uint8_t *in, size_t n, uint8_t *out);
