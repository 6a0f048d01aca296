/* libFuzzer target for Xen PV image detection and validation
 * (hv/xen/xen_elf.c). Any input may be refused; what must never happen is
 * a crash, an out-of-bounds read (ASan), undefined behaviour (UBSan), or an
 * accepted image that breaks a promise of xen_elf.h. Built and run by
 * tests/fuzz/run-fuzz.sh (seeded from tests/unit/test_xen_elf.c's files). */
#include "hv/xen/xen_elf.h"
#include "tests/fuzz/fuzz_common.h"

#define IMAGE_MAX 0x0000800000000000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool xen = xen_image_detect(data, size);
    struct xen_image img;
    char why[160];
    int rc = xen_image_check(data, size, IMAGE_MAX, &img, why, sizeof(why));
    FUZZ_ASSERT(memchr(why, 0, sizeof(why)) != NULL);
    if (rc != 0) {
        FUZZ_ASSERT(why[0] != 0);
        return 0;
    }
    FUZZ_ASSERT(xen); /* whatever the check accepts, detection recognises */
    FUZZ_ASSERT(why[0] == 0);
    FUZZ_ASSERT(img.kstart % PAGE == 0 && img.kend % PAGE == 0);
    FUZZ_ASSERT(img.virt_base <= img.kstart && img.kstart < img.kend && img.kend <= IMAGE_MAX);
    FUZZ_ASSERT(img.entry >= img.kstart && img.entry < img.kend);
    if (img.has_hypercall_page)
        FUZZ_ASSERT(img.hypercall_page % PAGE == 0 && img.hypercall_page >= img.kstart &&
                    img.hypercall_page < img.kend);
    FUZZ_ASSERT(img.segment_count >= 1 && img.segment_count <= XEN_IMAGE_MAX_SEGMENTS);
    for (size_t i = 0; i < img.segment_count; i++) {
        const struct xen_image_segment *s = &img.segments[i];
        FUZZ_ASSERT(s->memsz > 0 && s->filesz <= s->memsz);
        FUZZ_ASSERT(s->offset <= size && s->filesz <= size - s->offset);
        FUZZ_ASSERT(s->vaddr >= img.kstart && s->vaddr + s->memsz <= img.kend);
        if (i > 0)
            FUZZ_ASSERT(s->vaddr >= img.segments[i - 1].vaddr + img.segments[i - 1].memsz);
    }
    FUZZ_ASSERT(memchr(img.guest_os, 0, sizeof(img.guest_os)) && memchr(img.loader, 0, sizeof(img.loader)) &&
                memchr(img.xen_version, 0, sizeof(img.xen_version)) &&
                memchr(img.features, 0, sizeof(img.features)));
    return 0;
}
