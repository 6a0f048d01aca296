/* Memory a guest is given must be all zero when it first looks, and its own
 * alone: this guest checks its heap and bss are zero, then fills the heap
 * with a pattern unique to its guest id and, after yielding many times so
 * other copies of it run in between, checks the pattern is still intact.
 * Two copies at the same link address therefore prove that address spaces
 * do not share frames. */
#include "hvg.h"

HV_GUEST_NOTE("", 2 * 1024 * 1024, 1, 0);

static uint64_t bss_words[512];

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    volatile uint64_t *heap = (volatile uint64_t *)si->heap_start;
    uint64_t words = si->heap_bytes / 8;
    uint64_t pattern = 0x5eed000000000000ULL | si->guest_id;

    if (!si->heap_start || words == 0) {
        hvg_puts("memory-check: no heap");
        return 1;
    }
    for (uint64_t i = 0; i < sizeof(bss_words) / 8; i++)
        if (bss_words[i]) {
            hvg_printf("memory-check: bss word %lu is not zero\n", (unsigned long)i);
            return 1;
        }
    for (uint64_t i = 0; i < words; i++)
        if (heap[i]) {
            hvg_printf("memory-check: heap word %lu is 0x%lx, not zero\n", (unsigned long)i,
                       (unsigned long)heap[i]);
            return 1;
        }
    hvg_printf("memory-check: %lu KiB of heap all zero\n", (unsigned long)(si->heap_bytes >> 10));
    for (uint64_t i = 0; i < words; i++)
        heap[i] = pattern ^ i;
    for (int round = 0; round < 50; round++)
        hvg_yield();
    for (uint64_t i = 0; i < words; i++)
        if (heap[i] != (pattern ^ i)) {
            hvg_printf("memory-check: heap word %lu changed behind my back\n", (unsigned long)i);
            return 1;
        }
    hvg_puts("memory-check: my memory stayed mine");
    return 0;
}
