/* libFuzzer target for the guest image validator (guest-loader/elf_*.c).
 * Any input may be rejected; what must never happen is a crash, an
 * out-of-bounds read (ASan), undefined behaviour (UBSan), or an accepted
 * image that breaks a promise of elf_image.h, which check_accepted() spells
 * out. Accepted images are relocated with a write64 that aborts on any
 * target outside the image's segments. Built and run by tests/fuzz/run-fuzz.sh. */
#include "guest-loader/elf_image.h"
#include "lib/elf64.h"
#include "tests/fuzz/fuzz_common.h"

static bool in_one_segment(const struct elf_image *img, uint64_t va, uint64_t len)
{
    for (size_t i = 0; i < img->segment_count; i++) {
        const struct elf_segment *s = &img->segments[i];
        if (va >= s->vaddr && s->memsz >= len && va - s->vaddr <= s->memsz - len)
            return true;
    }
    return false;
}

static void check_note_name(const struct hv_image_note *n)
{
    size_t len = strnlen(n->name, sizeof(n->name));
    FUZZ_ASSERT(len < sizeof(n->name));
    for (size_t i = 0; i < len; i++) {
        char ch = n->name[i];
        FUZZ_ASSERT((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-');
    }
}

static void check_accepted(const struct elf_image *img, size_t size)
{
    FUZZ_ASSERT(img->type == ET_EXEC || img->type == ET_DYN);
    if (img->type == ET_EXEC) {
        FUZZ_ASSERT(img->load_bias == 0);
        FUZZ_ASSERT(img->rela_count == 0);
    }
    FUZZ_ASSERT(img->segment_count >= 1 && img->segment_count <= ELF_IMAGE_MAX_SEGMENTS);
    uint64_t pages = 0, prev_end = 0;
    bool entry_ok = false;
    for (size_t i = 0; i < img->segment_count; i++) {
        const struct elf_segment *s = &img->segments[i];
        FUZZ_ASSERT(s->memsz > 0 && s->filesz <= s->memsz);
        FUZZ_ASSERT(s->offset <= size && s->filesz <= size - s->offset);
        FUZZ_ASSERT(s->flags != 0 && (s->flags & ~(uint32_t)(PF_R | PF_W | PF_X)) == 0);
        FUZZ_ASSERT(!((s->flags & PF_W) && (s->flags & PF_X)));
        FUZZ_ASSERT(s->vaddr >= HV_GUEST_IMAGE_MIN && s->vaddr < HV_GUEST_IMAGE_MAX);
        FUZZ_ASSERT(s->memsz <= HV_GUEST_IMAGE_MAX - s->vaddr);
        uint64_t start = s->vaddr & ~(PAGE - 1);
        uint64_t end = (s->vaddr + s->memsz + PAGE - 1) & ~(PAGE - 1);
        FUZZ_ASSERT(start >= img->lowest && end <= img->highest);
        FUZZ_ASSERT(i == 0 || start >= prev_end); /* sorted, no shared page */
        prev_end = end;
        pages += end - start;
        if ((s->flags & PF_X) && img->entry >= s->vaddr && img->entry - s->vaddr < s->filesz)
            entry_ok = true;
    }
    FUZZ_ASSERT(entry_ok);
    FUZZ_ASSERT(pages <= ELF_IMAGE_MAX_MEMORY);
    FUZZ_ASSERT(img->lowest == (img->segments[0].vaddr & ~(PAGE - 1)));
    FUZZ_ASSERT(img->highest == prev_end);
    FUZZ_ASSERT(img->lowest >= HV_GUEST_IMAGE_MIN && img->highest <= HV_GUEST_IMAGE_MAX);
    if (img->type == ET_DYN)
        FUZZ_ASSERT(img->lowest == HV_GUEST_STATIC_PIE_BASE);
    if (img->rela_count) {
        FUZZ_ASSERT(img->rela_count <= size / 24);
        FUZZ_ASSERT(img->rela_offset <= size - img->rela_count * 24);
    }
    if (img->have_note) {
        FUZZ_ASSERT(img->note.abi_version == HV_ABI_VERSION);
        check_note_name(&img->note);
    }
}

struct fuzz_guest {
    const struct elf_image *img;
    unsigned writes;
    unsigned fail_at; /* 1-based write that fails; 0: none */
};

static int fuzz_write64(void *arg, uint64_t guest_va, uint64_t value)
{
    struct fuzz_guest *g = arg;
    (void)value;
    FUZZ_ASSERT(in_one_segment(g->img, guest_va, 8));
    if (++g->writes == g->fail_at)
        return -1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct elf_image img;
    char why[192], short_why[8];
    int rc = elf_image_check(data, size, &img, why, sizeof(why));
    FUZZ_ASSERT(memchr(why, 0, sizeof(why)) != NULL);
    if (rc != 0) {
        FUZZ_ASSERT(rc < 0 && why[0] != 0);
        /* Deterministic, and a short buffer gets a prefix of the reason. */
        FUZZ_ASSERT(elf_image_check(data, size, &img, short_why, sizeof(short_why)) == rc);
        FUZZ_ASSERT(strncmp(short_why, why, sizeof(short_why) - 1) == 0);
        FUZZ_ASSERT(strlen(short_why) < sizeof(short_why));
        return 0;
    }
    FUZZ_ASSERT(why[0] == 0);
    check_accepted(&img, size);

    struct fuzz_guest g = {.img = &img};
    FUZZ_ASSERT(elf_image_relocate(&img, data, size, fuzz_write64, &g, why, sizeof(why)) == 0);
    FUZZ_ASSERT(why[0] == 0);
    FUZZ_ASSERT(g.writes <= img.rela_count);
    if (g.writes > 0) {
        /* The only way an accepted image fails to relocate: write64 fails. */
        struct fuzz_guest fail = {.img = &img, .fail_at = g.writes};
        FUZZ_ASSERT(elf_image_relocate(&img, data, size, fuzz_write64, &fail, why, sizeof(why)) < 0);
        FUZZ_ASSERT(strstr(why, "failed") != NULL);
    }
    return 0;
}
