/* hv/mm/kmalloc.c: size classes, alignment, zeroing, reuse, accounting. */
#include "check.h"
#include "hv/mm/kmalloc.h"

#define MACHINE_PAGES 256

static size_t pages_given, pages_back;
static void *live[MACHINE_PAGES];
static size_t live_count;

static void *get_pages(void *arg, size_t pages)
{
    (void)arg;
    if (pages_given + pages > MACHINE_PAGES)
        return NULL; /* a small machine */
    pages_given += pages;
    void *p = aligned_alloc(4096, pages * 4096);
    memset(p, 0xab, pages * 4096); /* kmalloc must zero what it hands out */
    live[live_count++] = p;
    return p;
}

static void put_pages(void *arg, void *p, size_t pages)
{
    (void)arg;
    pages_back += pages;
    for (size_t i = 0; i < live_count; i++)
        if (live[i] == p)
            live[i] = live[--live_count];
    free(p);
}

/* Gives back everything the previous test took, so LeakSanitizer is quiet. */
static struct kmalloc_heap heap(void)
{
    while (live_count)
        free(live[--live_count]);
    pages_given = pages_back = 0;
    return (struct kmalloc_heap){.get_pages = get_pages, .put_pages = put_pages};
}

static void objects_are_zeroed_aligned_and_distinct(void)
{
    struct kmalloc_heap h = heap();
    void *seen[200];
    for (int i = 0; i < 200; i++) {
        size_t size = 1 + (size_t)(i * 37) % 2048;
        unsigned char *p = kmalloc_from(&h, size);
        CHECK(p != NULL);
        size_t align = 64;
        while (align < size)
            align <<= 1;
        CHECK(((uintptr_t)p % align) == 0);
        for (size_t j = 0; j < size; j++)
            if (p[j]) {
                CHECK(!"not zeroed");
                break;
            }
        memset(p, 0x5a, size);
        for (int k = 0; k < i; k++)
            CHECK(seen[k] != p);
        seen[i] = p;
    }
}

static void freed_objects_are_reused_and_rezeroed(void)
{
    struct kmalloc_heap h = heap();
    char *a = kmalloc_from(&h, 100);
    memset(a, 0x77, 100);
    kfree_to(&h, a, 100);
    char *b = kmalloc_from(&h, 120); /* same 128-byte class */
    CHECK(a == b);
    CHECK(b[0] == 0 && b[99] == 0);
    CHECK_EQ_U64(pages_given, 1);
}

static void accounting_tracks_class_sizes(void)
{
    struct kmalloc_heap h = heap();
    void *a = kmalloc_from(&h, 65);   /* 128 */
    void *b = kmalloc_from(&h, 2048); /* 2048 */
    void *c = kmalloc_from(&h, 5000); /* two pages */
    CHECK_EQ_U64(h.bytes_in_use, 128 + 2048 + 8192);
    /* Pages: one each for the two classes, kept; two for the large block. */
    CHECK_EQ_U64(h.class_pages, 2);
    CHECK_EQ_U64(h.large_pages, 2);
    kfree_to(&h, a, 65);
    kfree_to(&h, b, 2048);
    kfree_to(&h, c, 5000);
    CHECK_EQ_U64(h.bytes_in_use, 0);
    CHECK_EQ_U64(pages_back, 2);
    /* hv's frame account (hv/guest/leak_check.c) counts class pages as
     * kmalloc's and large pages as held: both figures stay exact. */
    CHECK_EQ_U64(h.class_pages, 2);
    CHECK_EQ_U64(h.large_pages, 0);
    CHECK_EQ_U64(pages_given - pages_back, h.class_pages + h.large_pages);
}

/* kmalloc_block_bytes says what bytes_in_use counts, for every size. */
static void block_bytes_match_the_accounting(void)
{
    static const size_t sizes[] = {1, 63, 64, 65, 128, 129, 1000, 2047, 2048, 2049, 4096, 4097,
                                   8192, 12289};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct kmalloc_heap h = heap();
        void *p = kmalloc_from(&h, sizes[i]);
        CHECK(p != NULL);
        CHECK_EQ_U64(h.bytes_in_use, kmalloc_block_bytes(sizes[i]));
        kfree_to(&h, p, sizes[i]);
    }
    CHECK_EQ_U64(kmalloc_block_bytes(0), 0);
    CHECK_EQ_U64(kmalloc_block_bytes(65), 128);
    CHECK_EQ_U64(kmalloc_block_bytes(2049), 4096);
}

static void zero_and_huge_sizes_refused(void)
{
    struct kmalloc_heap h = heap();
    CHECK(kmalloc_from(&h, 0) == NULL);
    CHECK(kmalloc_from(&h, SIZE_MAX) == NULL);
    CHECK(kmalloc_from(&h, (MACHINE_PAGES + 1) * 4096) == NULL); /* more than the machine has */
}

static void exhaustion_returns_null(void)
{
    struct kmalloc_heap h = heap();
    size_t n = 0;
    while (kmalloc_from(&h, 2048))
        n++;
    CHECK_EQ_U64(n, MACHINE_PAGES * 2); /* two 2 KiB objects per page */
}

int main(void)
{
    check_suite = "kmalloc";
    RUN_TEST(objects_are_zeroed_aligned_and_distinct);
    RUN_TEST(freed_objects_are_reused_and_rezeroed);
    RUN_TEST(accounting_tracks_class_sizes);
    RUN_TEST(block_bytes_match_the_accounting);
    RUN_TEST(zero_and_huge_sizes_refused);
    RUN_TEST(exhaustion_returns_null);
    heap();
    return check_finish();
}
