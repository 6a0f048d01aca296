/* Static-pie relocation: only R_X86_64_RELATIVE (the image's own addresses
 * moved by the load bias). The same walk validates at check time, so an
 * accepted image fails to relocate only if writing to the guest fails. */
#include "guest-loader/elf_internal.h"

/* Characters, not pointers: a switch of 9 names was a table of 37
 * pointers. The names without their "R_X86_64_". */
static const struct {
    uint8_t type;
    char name[11];
} reloc_names[] = {
    {R_X86_64_64, "64"},
    {R_X86_64_PC32, "PC32"},
    {R_X86_64_COPY, "COPY"},
    {R_X86_64_GLOB_DAT, "GLOB_DAT"},
    {R_X86_64_JUMP_SLOT, "JUMP_SLOT"},
    {R_X86_64_DTPMOD64, "DTPMOD64"},
    {R_X86_64_DTPOFF64, "DTPOFF64"},
    {R_X86_64_TPOFF64, "TPOFF64"},
    {R_X86_64_IRELATIVE, "IRELATIVE"},
};

static const char *reloc_name(uint32_t type)
{
    for (size_t i = 0; i < sizeof(reloc_names) / sizeof(reloc_names[0]); i++)
        if (reloc_names[i].type == type)
            return reloc_names[i].name;
    return NULL;
}

/* Whether the 8 bytes at guest address va lie inside one segment. */
static bool target_in_segment(const struct elf_image *img, uint64_t va)
{
    for (size_t i = 0; i < img->segment_count && i < ELF_IMAGE_MAX_SEGMENTS; i++) {
        const struct elf_segment *s = &img->segments[i];
        if (va >= s->vaddr && s->memsz >= 8 && va - s->vaddr <= s->memsz - 8)
            return true;
    }
    return false;
}

int elf_walk_relocations(const struct elf_image *img, const struct elf_file *f, uint64_t first,
                         uint64_t n, int (*write64)(void *arg, uint64_t guest_va, uint64_t value),
                         void *arg)
{
    uint64_t count = img->rela_count, base = img->rela_offset;
    if (n == 0)
        return 0;
    if (count > f->size / sizeof(Elf64_Rela) ||
        !elf_in_file(f, base, count * sizeof(Elf64_Rela)))
        return elf_reject(f, "the relocation table at file offset 0x%lx (%lu entries) runs past "
                             "the end of the file (0x%zx bytes)", base, count, f->size);
    if (first > count || n > count - first)
        return elf_reject(f, "relocations %lu to %lu asked for: the table has %lu", first,
                          first + n - 1, count);
    uint64_t bias = img->load_bias;
    for (uint64_t i = first; i < first + n; i++) {
        uint64_t off = base + i * sizeof(Elf64_Rela);
        uint64_t where = elf_read64(f, off), info = elf_read64(f, off + 8);
        uint64_t addend = elf_read64(f, off + 16);
        uint32_t type = ELF64_R_TYPE(info), sym = ELF64_R_SYM(info);
        if (type == R_X86_64_NONE)
            continue; /* what ld leaves of a relocation it resolved */
        if (type != R_X86_64_RELATIVE) {
            const char *name = reloc_name(type);
            if (name)
                return elf_reject(f, "relocation %lu has type R_X86_64_%s (%u); hv applies only "
                                     "R_X86_64_RELATIVE", i, name, type);
            return elf_reject(f, "relocation %lu has unknown type %u; hv applies only "
                                 "R_X86_64_RELATIVE", i, type);
        }
        if (sym != 0)
            return elf_reject(f, "relocation %lu (R_X86_64_RELATIVE) names symbol %u; it must "
                                 "name none", i, sym);
        uint64_t va = where + bias; /* modulo 2^64, like the bias */
        if (!target_in_segment(img, va))
            return elf_reject(f, "relocation %lu targets 0x%lx, whose 8 bytes are not inside "
                                 "one loadable segment", i, where);
        if (write64 && write64(arg, va, bias + addend) != 0)
            return elf_reject(f, "relocation %lu: writing 0x%lx to guest address 0x%lx failed",
                              i, bias + addend, va);
    }
    return 0;
}

int elf_image_relocate(const struct elf_image *img, const void *file, size_t size,
                       int (*write64)(void *arg, uint64_t guest_va, uint64_t value), void *arg,
                       char *why, size_t why_len)
{
    struct elf_file f = {
        .data = file, .size = file ? size : 0, .why = why, .why_len = why ? why_len : 0,
    };
    if (f.why_len)
        why[0] = 0;
    if (!img || !write64)
        return elf_reject(&f, "elf_image_relocate: no image or no write function");
    return elf_walk_relocations(img, &f, 0, img->rela_count, write64, arg);
}
