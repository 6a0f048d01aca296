/* SHA-256 after FIPS 180-4: the functions of 4.1.2, the constants of 4.2.2,
 * the initial hash value of 5.3.3, the padding of 5.1.1 and the
 * computation of 6.2.2. */
#include "lib/sha256.h"

/* The first 32 bits of the fractional parts of the cube roots of the first
 * 64 primes (4.2.2). */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* Always inlined: at -Os (the file's flags in hv) the compiler called
 * them, 64 times a block; with the nested rotations below (the same
 * functions, fewer copies) hashing takes ~65 instructions a byte, not ~73
 * (a restart hashes its kept image again, hv/guest/restart.c). Unrolling
 * the rounds 8 ways would make it ~54 for ~600 bytes of code. */
static inline __attribute__((always_inline)) uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static inline __attribute__((always_inline)) uint32_t big_sigma0(uint32_t x)
{
    return rotr(x ^ rotr(x ^ rotr(x, 9), 11), 2); /* rotr 2 ^ rotr 13 ^ rotr 22 */
}

static inline __attribute__((always_inline)) uint32_t big_sigma1(uint32_t x)
{
    return rotr(x ^ rotr(x ^ rotr(x, 14), 5), 6); /* rotr 6 ^ rotr 11 ^ rotr 25 */
}

static inline __attribute__((always_inline)) uint32_t small_sigma0(uint32_t x)
{
    return rotr(x ^ rotr(x, 11), 7) ^ (x >> 3); /* rotr 7 ^ rotr 18 ^ shr 3 */
}

static inline __attribute__((always_inline)) uint32_t small_sigma1(uint32_t x)
{
    return rotr(x ^ rotr(x, 2), 17) ^ (x >> 10); /* rotr 17 ^ rotr 19 ^ shr 10 */
}

/* One 512-bit block into the hash value (6.2.2); words are big-endian. */
static void compress(uint32_t h[8], const uint8_t block[SHA256_BLOCK_BYTES])
{
    uint32_t w[64];
    for (unsigned t = 0; t < 16; t++)
        w[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16 |
               (uint32_t)block[4 * t + 2] << 8 | (uint32_t)block[4 * t + 3];
    for (unsigned t = 16; t < 64; t++)
        w[t] = small_sigma1(w[t - 2]) + w[t - 7] + small_sigma0(w[t - 15]) + w[t - 16];

    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    /* Ch and Maj in forms of 3 and 4 operations (the same functions). */
    for (unsigned t = 0; t < 64; t++) {
        uint32_t t1 = hh + big_sigma1(e) + (g ^ (e & (f ^ g))) + K[t] + w[t];
        uint32_t t2 = big_sigma0(a) + ((a & b) | (c & (a | b)));
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

void sha256_init(struct sha256 *s)
{
    /* The first 32 bits of the fractional parts of the square roots of the
     * first 8 primes (5.3.3). */
    static const uint32_t initial[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    };
    for (unsigned i = 0; i < 8; i++)
        s->h[i] = initial[i];
    s->length = 0;
    s->used = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    s->length += len;
    while (len > 0) {
        if (s->used == 0 && len >= SHA256_BLOCK_BYTES) {
            compress(s->h, p);      /* whole blocks straight from the input */
            p += SHA256_BLOCK_BYTES;
            len -= SHA256_BLOCK_BYTES;
            continue;
        }
        size_t take = SHA256_BLOCK_BYTES - s->used;
        if (take > len)
            take = len;
        for (size_t i = 0; i < take; i++)
            s->block[s->used + i] = p[i];
        s->used += take;
        p += take;
        len -= take;
        if (s->used == SHA256_BLOCK_BYTES) {
            compress(s->h, s->block);
            s->used = 0;
        }
    }
}

void sha256_final(struct sha256 *s, uint8_t digest[SHA256_BYTES])
{
    /* 5.1.1: a 1 bit, zeros up to 448 mod 512 bits, the length in bits as a
     * 64-bit big-endian number; one more block when the length will not fit. */
    uint64_t bits = s->length << 3;
    s->block[s->used++] = 0x80;
    if (s->used > SHA256_BLOCK_BYTES - 8) {
        while (s->used < SHA256_BLOCK_BYTES)
            s->block[s->used++] = 0;
        compress(s->h, s->block);
        s->used = 0;
    }
    while (s->used < SHA256_BLOCK_BYTES - 8)
        s->block[s->used++] = 0;
    for (unsigned i = 0; i < 8; i++)
        s->block[SHA256_BLOCK_BYTES - 1 - i] = (uint8_t)(bits >> (8 * i));
    compress(s->h, s->block);
    for (unsigned i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(s->h[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        digest[4 * i + 3] = (uint8_t)s->h[i];
    }
    s->used = 0;
}

void sha256(const void *data, size_t len, uint8_t digest[SHA256_BYTES])
{
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, data, len);
    sha256_final(&s, digest);
}

void sha256_to_hex(const uint8_t digest[SHA256_BYTES], char hex[SHA256_HEX_CHARS + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < SHA256_BYTES; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 0xf];
    }
    hex[SHA256_HEX_CHARS] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool sha256_from_hex(const char *text, size_t len, uint8_t digest[SHA256_BYTES])
{
    if (len != SHA256_HEX_CHARS)
        return false;
    uint8_t out[SHA256_BYTES];
    for (unsigned i = 0; i < SHA256_BYTES; i++) {
        int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    for (unsigned i = 0; i < SHA256_BYTES; i++)
        digest[i] = out[i];
    return true;
}
