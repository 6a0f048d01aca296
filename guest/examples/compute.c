/* CPU-bound work that checks itself: CRC-32 (IEEE 802.3, as zlib) over a
 * 64 KiB pseudo-random buffer, 256 times in a row. About 17 MB of CRC, a
 * hundred-odd million instructions: a fraction of a second natively. Exits 0
 * when the result matches the value computed on the host, 1 otherwise. */
#include "hvg.h"

HV_GUEST_NOTE("compute", HVG_MIB(4), 1, 0);

#define BUFFER_BYTES 65536
#define PASSES 256
#define SEED 0x2545f4914f6cdd1dULL

/* Computed on the host, independently of this code:
 *   python3 -c 'import zlib
 *   x, b = 0x2545f4914f6cdd1d, bytearray()
 *   M = (1 << 64) - 1
 *   for _ in range(65536 // 8):
 *       x ^= (x << 13) & M; x ^= x >> 7; x ^= (x << 17) & M
 *       b += x.to_bytes(8, "little")
 *   print(hex(zlib.crc32(bytes(b) * 256)))' */
#define EXPECTED_CRC 0x84245c8fu

static uint8_t buffer[BUFFER_BYTES];
static uint32_t crc_table[256];

/* xorshift64: the buffer only has to be the same on guest and host. */
static void fill_buffer(void)
{
    uint64_t x = SEED;

    for (size_t i = 0; i < BUFFER_BYTES; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for (size_t j = 0; j < 8; j++)
            buffer[i + j] = (uint8_t)(x >> (8 * j));
    }
}

static void make_crc_table(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

/* Running CRC without the final inversion, so passes chain. */
static uint32_t crc_update(uint32_t crc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;

    hvg_printf("compute: CRC-32 of %u bytes x %u passes\n", BUFFER_BYTES, PASSES);
    uint64_t t0 = hvg_rdtsc();
    fill_buffer();
    make_crc_table();
    uint32_t crc = 0xffffffffu;
    for (int pass = 0; pass < PASSES; pass++)
        crc = crc_update(crc, buffer, BUFFER_BYTES);
    crc ^= 0xffffffffu;
    uint64_t cycles = hvg_rdtsc() - t0;

    hvg_printf("compute: crc32 = %#010x, expected %#010x, %llu TSC cycles\n", crc,
               EXPECTED_CRC, (unsigned long long)cycles);
    if (crc != EXPECTED_CRC) {
        hvg_puts("compute: WRONG");
        return 1;
    }
    hvg_puts("compute: correct");
    return 0;
}
