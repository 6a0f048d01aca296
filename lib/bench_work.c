#include "lib/bench_work.h"

#define BUFFER_BYTES 4096

uint32_t bench_workload(uint32_t rounds)
{
    static uint8_t buffer[BUFFER_BYTES];
    uint32_t seed = 0x12345678u;
    for (uint32_t i = 0; i < BUFFER_BYTES; i++) {
        seed = seed * 1103515245u + 12345u;
        buffer[i] = (uint8_t)(seed >> 16);
    }
    uint32_t crc = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        crc = ~crc;
        for (uint32_t i = 0; i < BUFFER_BYTES; i++) {
            crc ^= buffer[i];
            for (int b = 0; b < 8; b++)
                crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
        }
        crc = ~crc;
    }
    return crc;
}
