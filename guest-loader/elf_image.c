/* The guest image validator: the program headers and the loadable segments.
 * The ELF header is checked in elf_header.c, the dynamic table and
 * relocations in elf_dynamic.c and elf_relocate.c, notes in elf_note.c.
 * Program headers are numbered from 0, in file order, as `readelf -lW`
 * lists them. */
#include "guest-loader/elf_internal.h"

#define IMAGE_AREA "the guest image area [0x10000, 0x7f0000000000)"

_Static_assert(HV_GUEST_IMAGE_MIN == 0x10000 && HV_GUEST_IMAGE_MAX == 0x7f0000000000,
               "IMAGE_AREA spells the limits out for the reasons");

static int check_load(struct elf_check *c, unsigned i, const Elf64_Phdr *ph)
{
    const struct elf_file *f = &c->f;
    uint64_t vaddr = ph->p_vaddr, memsz = ph->p_memsz, align = ph->p_align;
    if (ph->p_filesz > memsz)
        return elf_reject(f, "program header %u: file size 0x%lx is larger than its memory "
                             "size 0x%lx", i, ph->p_filesz, memsz);
    if (memsz == 0)
        return 0; /* occupies nothing: ignored */
    int rc = elf_check_file_range(c, i, NULL, ph);
    if (rc)
        return rc;
    /* The end must also survive rounding up to a page. */
    if (memsz > UINT64_MAX - ELF_PAGE_MASK || vaddr > UINT64_MAX - ELF_PAGE_MASK - memsz)
        return elf_reject(f, "program header %u: memory range 0x%lx+0x%lx wraps around the "
                             "end of the address space", i, vaddr, memsz);
    uint32_t access = ph->p_flags & (PF_R | PF_W | PF_X);
    if (access == 0)
        return elf_reject(f, "program header %u: segment 0x%lx-0x%lx allows no access (none "
                             "of PF_R, PF_W, PF_X)", i, vaddr, vaddr + memsz);
    if ((access & PF_W) && (access & PF_X))
        return elf_reject(f, "program header %u: segment 0x%lx-0x%lx is both writable and "
                             "executable; hv maps no page both", i, vaddr, vaddr + memsz);
    if (align & (align - 1))
        return elf_reject(f, "program header %u: alignment 0x%lx (p_align) is not a power of "
                             "two", i, align);
    if (align > 1 && ((vaddr - ph->p_offset) & (align - 1)))
        return elf_reject(f, "program header %u: address 0x%lx and file offset 0x%lx are not "
                             "congruent modulo the alignment 0x%lx", i, vaddr, ph->p_offset,
                          align);
    if (c->load_count == ELF_IMAGE_MAX_SEGMENTS)
        return elf_reject(f, "more than %u loadable segments (program header %u is one too "
                             "many)", ELF_IMAGE_MAX_SEGMENTS, i);
    c->loads[c->load_count] = *ph;
    c->load_index[c->load_count] = i;
    c->load_count++;
    return 0;
}

static int refuse_interp(const struct elf_check *c, unsigned i, const Elf64_Phdr *ph)
{
    char path[80];
    if (elf_string(&c->f, ph->p_offset, ph->p_filesz, path, sizeof(path)) && path[0])
        return elf_reject(&c->f, "program header %u: PT_INTERP: needs the dynamic loader %s; "
                                 "hv runs only statically linked programs", i, path);
    return elf_reject(&c->f, "program header %u: PT_INTERP: needs a dynamic loader; hv runs "
                             "only statically linked programs", i);
}

static int scan_program_headers(struct elf_check *c)
{
    bool have_dynamic = false;
    unsigned dynamic_index = 0;
    for (unsigned i = 0; i < c->eh.e_phnum; i++) {
        Elf64_Phdr ph;
        elf_phdr(c, i, &ph);
        int rc = 0;
        switch (ph.p_type) {
        case PT_LOAD:
            rc = check_load(c, i, &ph);
            break;
        case PT_INTERP:
            return refuse_interp(c, i, &ph);
        case PT_TLS:
            return elf_reject(&c->f, "program header %u: PT_TLS: the program uses thread-local "
                                     "storage, which hv guests do not have", i);
        case PT_GNU_STACK:
            if (ph.p_flags & PF_X)
                return elf_reject(&c->f, "program header %u: PT_GNU_STACK asks for an "
                                         "executable stack, which hv never gives", i);
            break;
        case PT_DYNAMIC:
            if (have_dynamic)
                return elf_reject(&c->f, "program headers %u and %u are both PT_DYNAMIC; a "
                                         "program has one dynamic table", dynamic_index, i);
            have_dynamic = true;
            dynamic_index = i;
            break;
        default:
            break; /* PT_PHDR, PT_GNU_RELRO, PT_GNU_PROPERTY, ...: nothing to do */
        }
        if (rc)
            return rc;
    }
    return 0;
}

static void sort_loads(struct elf_check *c)
{
    for (size_t i = 1; i < c->load_count; i++) {
        Elf64_Phdr ph = c->loads[i];
        unsigned index = c->load_index[i];
        size_t j = i;
        for (; j > 0 && c->loads[j - 1].p_vaddr > ph.p_vaddr; j--) {
            c->loads[j] = c->loads[j - 1];
            c->load_index[j] = c->load_index[j - 1];
        }
        c->loads[j] = ph;
        c->load_index[j] = index;
    }
}

static uint64_t page_down(uint64_t a) { return a & ~ELF_PAGE_MASK; }
/* Callers know a + ELF_PAGE_MASK does not wrap (check_load). */
static uint64_t page_up(uint64_t a) { return (a + ELF_PAGE_MASK) & ~ELF_PAGE_MASK; }

static int check_no_shared_pages(const struct elf_check *c)
{
    for (size_t i = 1; i < c->load_count; i++) {
        const Elf64_Phdr *a = &c->loads[i - 1], *b = &c->loads[i];
        uint64_t a_end = a->p_vaddr + a->p_memsz, b_end = b->p_vaddr + b->p_memsz;
        unsigned ai = c->load_index[i - 1], bi = c->load_index[i];
        if (a_end > b->p_vaddr)
            return elf_reject(&c->f, "program headers %u and %u overlap: segments 0x%lx-0x%lx "
                                     "and 0x%lx-0x%lx", ai, bi, a->p_vaddr, a_end, b->p_vaddr,
                              b_end);
        if (page_up(a_end) > page_down(b->p_vaddr))
            return elf_reject(&c->f, "program headers %u and %u share the page 0x%lx (segments "
                                     "0x%lx-0x%lx and 0x%lx-0x%lx); a page has one set of "
                                     "permissions", ai, bi, page_down(b->p_vaddr), a->p_vaddr,
                              a_end, b->p_vaddr, b_end);
    }
    return 0;
}

/* Decides where the image goes and fills out->segments. */
static int place_segments(struct elf_check *c)
{
    const struct elf_file *f = &c->f;
    struct elf_image *out = c->out;
    bool exec = c->eh.e_type == ET_EXEC;
    if (c->load_count == 0)
        return elf_reject(f, "no loadable segment (no PT_LOAD with a memory size)");
    sort_loads(c);
    int rc = check_no_shared_pages(c);
    if (rc)
        return rc;

    uint64_t lowest = page_down(c->loads[0].p_vaddr);
    uint64_t base = exec ? lowest : HV_GUEST_STATIC_PIE_BASE;
    uint64_t total = 0;
    for (size_t i = 0; i < c->load_count; i++) {
        const Elf64_Phdr *ph = &c->loads[i];
        unsigned index = c->load_index[i];
        uint64_t start = page_down(ph->p_vaddr), end = page_up(ph->p_vaddr + ph->p_memsz);
        if (exec && start < HV_GUEST_IMAGE_MIN)
            return elf_reject(f, "program header %u: segment 0x%lx-0x%lx lies below 0x10000, "
                                 "where " IMAGE_AREA " begins", index, ph->p_vaddr,
                              ph->p_vaddr + ph->p_memsz);
        if (exec && end > HV_GUEST_IMAGE_MAX)
            return elf_reject(f, "program header %u: segment 0x%lx-0x%lx reaches beyond "
                                 "0x7f0000000000, where " IMAGE_AREA " ends", index,
                              ph->p_vaddr, ph->p_vaddr + ph->p_memsz);
        if (!exec && end - lowest > HV_GUEST_IMAGE_MAX - HV_GUEST_STATIC_PIE_BASE)
            return elf_reject(f, "program header %u: segment 0x%lx-0x%lx ends 0x%lx bytes above "
                                 "the image's lowest page 0x%lx; loaded at 0x400000 it would "
                                 "reach beyond " IMAGE_AREA, index, ph->p_vaddr,
                              ph->p_vaddr + ph->p_memsz, end - lowest, lowest);
        total += end - start; /* no wrap: disjoint pages below HV_GUEST_IMAGE_MAX */
    }
    if (total > ELF_IMAGE_MAX_MEMORY)
        return elf_reject(f, "the loadable segments need 0x%lx bytes (%lu MiB); hv allows at "
                             "most 1 GiB", total, (total + 0xfffff) >> 20);

    /* Modulo 2^64 on purpose: for a static-pie linked above the base the
     * bias is "negative", and adding it still lands every address right. */
    out->load_bias = base - lowest;
    for (size_t i = 0; i < c->load_count; i++) {
        const Elf64_Phdr *ph = &c->loads[i];
        struct elf_segment *s = &out->segments[i];
        s->vaddr = ph->p_vaddr + out->load_bias;
        s->memsz = ph->p_memsz;
        s->offset = ph->p_offset;
        s->filesz = ph->p_filesz;
        s->flags = ph->p_flags & (PF_R | PF_W | PF_X);
    }
    out->segment_count = c->load_count;
    const Elf64_Phdr *last = &c->loads[c->load_count - 1];
    out->lowest = base;
    out->highest = base + (page_up(last->p_vaddr + last->p_memsz) - lowest);
    return 0;
}

static int check_entry(struct elf_check *c)
{
    uint64_t entry = c->eh.e_entry;
    if (entry == 0)
        return elf_reject(&c->f, "no entry point (e_entry is 0): a shared library rather than "
                                 "a program?");
    for (size_t i = 0; i < c->load_count; i++) {
        const Elf64_Phdr *ph = &c->loads[i];
        if (entry < ph->p_vaddr || entry - ph->p_vaddr >= ph->p_memsz)
            continue;
        if (!(ph->p_flags & PF_X))
            return elf_reject(&c->f, "the entry point 0x%lx is in program header %u, which is "
                                     "not executable", entry, c->load_index[i]);
        if (entry - ph->p_vaddr >= ph->p_filesz)
            return elf_reject(&c->f, "the entry point 0x%lx is in the zero-filled part of "
                                     "program header %u, past its 0x%lx bytes from the file",
                              entry, c->load_index[i], ph->p_filesz);
        c->out->entry = entry + c->out->load_bias;
        return 0;
    }
    return elf_reject(&c->f, "the entry point 0x%lx is not inside any loadable segment", entry);
}

/* After the segments are final: relocation targets are checked against them. */
static int check_dynamic_and_notes(struct elf_check *c)
{
    Elf64_Phdr ph;
    for (unsigned i = 0; i < c->eh.e_phnum; i++) {
        elf_phdr(c, i, &ph);
        if (ph.p_type == PT_DYNAMIC) {
            int rc = elf_check_dynamic(c, i, &ph);
            if (rc)
                return rc;
        }
    }
    unsigned hv_note_phdr = 0;
    for (unsigned i = 0; i < c->eh.e_phnum; i++) {
        elf_phdr(c, i, &ph);
        if (ph.p_type == PT_NOTE) {
            int rc = elf_check_notes(c, i, &ph, &hv_note_phdr);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int elf_image_check(const void *file, size_t size, struct elf_image *out, char *why,
                    size_t why_len)
{
    struct elf_check c = {
        .f = {.data = file, .size = file ? size : 0, .why = why, .why_len = why ? why_len : 0},
        .out = out,
    };
    unsigned char *o = (unsigned char *)out;
    for (size_t i = 0; i < sizeof(*out); i++)
        o[i] = 0;
    if (c.f.why_len)
        why[0] = 0;

    int rc = elf_check_header(&c);
    if (!rc)
        rc = scan_program_headers(&c);
    if (!rc)
        rc = place_segments(&c);
    if (!rc)
        rc = check_entry(&c);
    if (!rc)
        rc = check_dynamic_and_notes(&c);
    if (rc)
        return rc;
    out->type = c.eh.e_type;
    return 0;
}
