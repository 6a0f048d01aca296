/* SHA-256 (FIPS 180-4, section 6.2), freestanding: no allocation, no libc.
 * hv hashes every guest image it loads (guest-loader/image_policy.h says
 * why); the host tools and unit tests use the same code.
 *
 *     struct sha256 s;
 *     sha256_init(&s);
 *     sha256_update(&s, data, len);      (any number of times, any lengths)
 *     sha256_final(&s, digest);
 *
 * Messages up to 2^61 - 1 bytes (the standard's 2^64 bits); sha256_final
 * leaves the state unusable until the next sha256_init. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32
#define SHA256_HEX_CHARS 64
#define SHA256_BLOCK_BYTES 64

struct sha256 {
    uint32_t h[8];                       /* the running hash value H(i) */
    uint64_t length;                     /* message bytes so far */
    uint8_t block[SHA256_BLOCK_BYTES];   /* the partial block */
    size_t used;                         /* bytes in block, 0..63 */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t digest[SHA256_BYTES]);
/* All three at once. */
void sha256(const void *data, size_t len, uint8_t digest[SHA256_BYTES]);

/* 64 lower-case hex digits and a NUL. */
void sha256_to_hex(const uint8_t digest[SHA256_BYTES], char hex[SHA256_HEX_CHARS + 1]);
/* Exactly 64 hex digits (either case) in text[0..len): true and *digest
 * filled; false (digest untouched) for any other length or character. */
bool sha256_from_hex(const char *text, size_t len, uint8_t digest[SHA256_BYTES]);
