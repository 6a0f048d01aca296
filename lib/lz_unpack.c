/* The hvlz decoder (lib/lz.h): freestanding, shared by the UEFI stub, the
 * packer's self-check and the unit tests. Every read and write is checked
 * against its buffer: the input is our own build output, but a corrupt file
 * must end in an error message, not a write through memory. */
#include "lib/lz.h"

/* Copies n bytes forward, byte by byte as an overlapping match needs, and
 * advances both pointers. `rep movsb` is one instruction for the whole run
 * and leaves the pointers where the next copy starts (under QEMU's -icount
 * it counts one per byte, against a loop's four or five); LZ_PORTABLE_COPY
 * gives the sanitizers of the unit tests a loop they can see into. */
#if defined(__x86_64__) && !defined(LZ_PORTABLE_COPY)
#define COPY_FORWARD(dst, src, n) \
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory")
#else
#define COPY_FORWARD(dst, src, n) \
    do {                          \
        while (n) {               \
            *dst++ = *src++;      \
            n--;                  \
        }                         \
    } while (0)
#endif

/* A sequence without extension bytes reads at most a token, 6 literals and
 * 2 offset bytes and writes at most 6 + 9 bytes: this far from both ends it
 * needs no check but its distance's. */
#define FAST_IN (1 + (LZ_LITERAL_MORE - 1) + 2)
#define FAST_OUT ((LZ_LITERAL_MORE - 1) + (LZ_LENGTH_MORE - 1 + LZ_MIN_MATCH))

int64_t lz_unpacked_size(const uint8_t *buf, size_t size)
{
    if (size < LZ_HEADER_BYTES || buf[0] != 'h' || buf[1] != 'v' || buf[2] != 'l' || buf[3] != 'z')
        return -1;
    return (int64_t)((uint32_t)buf[4] | (uint32_t)buf[5] << 8 | (uint32_t)buf[6] << 16 |
                     (uint32_t)buf[7] << 24);
}

/* An extended count: bytes added to *value while they are 255. */
static int read_extension(const uint8_t **in, const uint8_t *in_end, size_t *value)
{
    for (;;) {
        if (*in == in_end)
            return -1;
        uint8_t b = *(*in)++;
        *value += b;
        if (b != 255)
            return 0;
    }
}

int lz_unpack(const uint8_t *buf, size_t size, uint8_t *out, size_t out_size)
{
    int64_t want = lz_unpacked_size(buf, size);
    if (want < 0 || (uint64_t)want != out_size)
        return -1;
    const uint8_t *in = buf + LZ_HEADER_BYTES, *in_end = buf + size;
    uint8_t *o = out, *out_end = out + out_size;
    /* The last positions where the fast path is safe; 0: never. */
    uintptr_t in_fast = size - LZ_HEADER_BYTES >= FAST_IN ? (uintptr_t)in_end - FAST_IN : 0;
    uintptr_t out_fast = out_size >= FAST_OUT ? (uintptr_t)out_end - FAST_OUT : 0;
    /* The last two matches' distances, for the repeats: none yet, which
     * the distance check refuses as it refuses one before the start. */
    size_t last = SIZE_MAX, last2 = SIZE_MAX;

    for (;;) {
        /* The common sequence, in about 30 instructions: the boot pays
         * them once per sequence (some 20,000 for the core). A long match
         * stays here too (one in ten: the length field has 3 bits), its
         * extension and length checked; long literal runs do not. */
        while ((uintptr_t)in <= in_fast && (uintptr_t)o <= out_fast) {
            unsigned token = *in;
            size_t literals = token >> LZ_LITERAL_SHIFT;
            if (literals == LZ_LITERAL_MORE)
                break; /* an extension: the careful path */
            in++;
            COPY_FORWARD(o, in, literals);
            /* The kind's two bits tested in place: a few instructions
             * less per sequence than extracting it. */
            if (!(token & LZ_KIND_REPEAT << LZ_KIND_SHIFT)) {
                last2 = last;
                last = (size_t)*in++ + 1;
                if (token & LZ_KIND_FAR << LZ_KIND_SHIFT)
                    last += (size_t)*in++ << 8;
            } else if (token & LZ_KIND_FAR << LZ_KIND_SHIFT) { /* LZ_KIND_REPEAT2 */
                size_t t = last;
                last = last2;
                last2 = t;
            }
            if (last > (size_t)(o - out))
                return -1;
            size_t length = token & LZ_LENGTH_MORE;
            if (length == LZ_LENGTH_MORE) {
                if (read_extension(&in, in_end, &length))
                    return -1;
                if (length + LZ_MIN_MATCH > (size_t)(out_end - o))
                    return -1;
            }
            length += LZ_MIN_MATCH;
            const uint8_t *from = o - last;
            COPY_FORWARD(o, from, length);
        }
        if (o == out_end)
            break;

        /* Near either end, or with extension bytes: every field checked. */
        if (in == in_end)
            return -1;
        unsigned token = *in++;
        size_t literals = token >> LZ_LITERAL_SHIFT;
        if (literals == LZ_LITERAL_MORE && read_extension(&in, in_end, &literals))
            return -1;
        if (literals > (size_t)(in_end - in) || literals > (size_t)(out_end - o))
            return -1;
        COPY_FORWARD(o, in, literals);
        if (o == out_end)
            break;

        unsigned kind = token >> LZ_KIND_SHIFT & LZ_KIND_MASK;
        if (kind < LZ_KIND_REPEAT) {
            size_t need = kind == LZ_KIND_NEAR ? 1 : 2;
            if ((size_t)(in_end - in) < need)
                return -1;
            last2 = last;
            last = (size_t)in[0] + 1;
            if (kind == LZ_KIND_FAR)
                last += (size_t)in[1] << 8;
            in += need;
        } else if (kind == LZ_KIND_REPEAT2) {
            size_t t = last;
            last = last2;
            last2 = t;
        }
        size_t length = token & LZ_LENGTH_MORE;
        if (length == LZ_LENGTH_MORE && read_extension(&in, in_end, &length))
            return -1;
        length += LZ_MIN_MATCH;
        if (last > (size_t)(o - out) || length > (size_t)(out_end - o))
            return -1;
        const uint8_t *from = o - last;
        COPY_FORWARD(o, from, length);
    }
    return in == in_end ? 0 : -1;
}
