/* The hvlz decoder (lib/lz.h): freestanding, shared by the UEFI stub, the
 * packer's self-check and the unit tests. Every read and write is checked
 * against its buffer: the input is our own build output, but a corrupt file
 * must end in an error message, not a write through memory. */
#include "lib/lz.h"

/* Forward byte by byte, as an overlapping match needs. `rep movsb` is one
 * instruction for the whole run (and, under QEMU's -icount, one count per
 * byte instead of a loop's four or five); LZ_PORTABLE_COPY gives the
 * sanitizers of the unit tests a loop they can see into. */
static inline void copy_forward(uint8_t *dst, const uint8_t *src, size_t n)
{
#if defined(__x86_64__) && !defined(LZ_PORTABLE_COPY)
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
#else
    while (n--)
        *dst++ = *src++;
#endif
}

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

    while (o != out_end) {
        if (in == in_end)
            return -1;
        uint8_t token = *in++;

        size_t literals = token >> 5;
        if (literals == 7 && read_extension(&in, in_end, &literals))
            return -1;
        if (literals > (size_t)(in_end - in) || literals > (size_t)(out_end - o))
            return -1;
        copy_forward(o, in, literals);
        o += literals;
        in += literals;
        if (o == out_end)
            break;

        size_t need = (token & 0x10) ? 2 : 1;
        if ((size_t)(in_end - in) < need)
            return -1;
        size_t distance = (size_t)in[0] + 1;
        if (token & 0x10)
            distance += (size_t)in[1] << 8;
        in += need;
        size_t length = token & 15;
        if (length == 15 && read_extension(&in, in_end, &length))
            return -1;
        length += LZ_MIN_MATCH;
        if (distance > (size_t)(o - out) || length > (size_t)(out_end - o))
            return -1;
        copy_forward(o, o - distance, length);
        o += length;
    }
    return in == in_end ? 0 : -1;
}
