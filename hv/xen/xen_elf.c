/* Xen PV image detection and validation (hv/xen/xen_elf.h). The ELF header
 * and the file-access helpers are the native validator's
 * (guest-loader/elf_header.c, elf_file.c); the notes and the segment rules
 * are Xen's: notes of owner "Xen" in PT_NOTE segments or, when those hold
 * none, in SHT_NOTE sections; segments placed by p_paddr plus the virtual
 * offset (VIRT_BASE - PADDR_OFFSET); RWX segments, an image at address 0
 * and segments sharing a page are all allowed, as Xen's builder allows them
 * (hv keeps W^X on the real mappings it makes, not on the guest's view). */
#include "hv/xen/xen_elf.h"

#include "guest-loader/elf_internal.h"
#include "hv/xen/xen_abi.h"
#include "lib/string.h"

#define NOTE_HEADER_SIZE 12
#define SHT_NOTE 7
#define PAGE 4096ULL
#define MAX_IMAGE_SPAN (1ULL << 30)

/* A stretch of the file holding notes: a PT_NOTE segment or a SHT_NOTE
 * section, named so in reasons. */
struct note_region {
    uint64_t off, size, align;
    const char *kind; /* "program header" or "section" */
    unsigned index;
};

struct walk {
    const struct elf_file *f;
    bool strict;       /* check: reject what is malformed; detect: stop quietly */
    unsigned budget;   /* notes left to walk (XEN_IMAGE_MAX_NOTES per file) */
    unsigned xen_notes;
    struct xen_image *out; /* NULL while detecting */
    bool have_virt_base, have_paddr_offset, have_entry;
};

static const char *note_name(uint32_t type)
{
    switch (type) {
    case XEN_ELFNOTE_ENTRY: return "XEN_ELFNOTE_ENTRY";
    case XEN_ELFNOTE_HYPERCALL_PAGE: return "XEN_ELFNOTE_HYPERCALL_PAGE";
    case XEN_ELFNOTE_VIRT_BASE: return "XEN_ELFNOTE_VIRT_BASE";
    case XEN_ELFNOTE_PADDR_OFFSET: return "XEN_ELFNOTE_PADDR_OFFSET";
    case XEN_ELFNOTE_XEN_VERSION: return "XEN_ELFNOTE_XEN_VERSION";
    case XEN_ELFNOTE_GUEST_OS: return "XEN_ELFNOTE_GUEST_OS";
    case XEN_ELFNOTE_GUEST_VERSION: return "XEN_ELFNOTE_GUEST_VERSION";
    case XEN_ELFNOTE_LOADER: return "XEN_ELFNOTE_LOADER";
    case XEN_ELFNOTE_PAE_MODE: return "XEN_ELFNOTE_PAE_MODE";
    case XEN_ELFNOTE_FEATURES: return "XEN_ELFNOTE_FEATURES";
    case XEN_ELFNOTE_INIT_P2M: return "XEN_ELFNOTE_INIT_P2M";
    default: return "a Xen note";
    }
}

static int bad_note(const struct walk *w, const struct note_region *r, unsigned n, uint64_t pos,
                    const char *what)
{
    if (!w->strict)
        return 0; /* detecting: the walk of this region ends here */
    return elf_reject(w->f, "%s %u (notes): note %u at file offset 0x%lx: %s", r->kind, r->index, n,
                      (unsigned long)pos, what);
}

/* A number in a note is 1, 2, 4 or 8 bytes, little-endian (Xen's libelf). */
static int take_number(struct walk *w, uint32_t type, uint64_t off, uint32_t size, uint64_t *v)
{
    if (size != 1 && size != 2 && size != 4 && size != 8)
        return elf_reject(w->f, "%s has a %u-byte descriptor; a number is 1, 2, 4 or 8 bytes",
                          note_name(type), size);
    *v = 0;
    for (uint32_t i = 0; i < size; i++)
        *v |= (uint64_t)w->f->data[off + i] << (8 * i);
    return 0;
}

/* A string in a note ends with a NUL inside its descriptor and is printable
 * ASCII; dst gets as much as fits (it is only logged). */
static int take_string(struct walk *w, uint32_t type, uint64_t off, uint32_t size, char *dst,
                       size_t dst_len)
{
    uint32_t len = 0;
    while (len < size && w->f->data[off + len] != 0) {
        unsigned char ch = w->f->data[off + len];
        if (ch < 0x20 || ch > 0x7e)
            return elf_reject(w->f, "%s has the byte 0x%02x at position %u; its string must be "
                                    "printable ASCII", note_name(type), ch, len);
        len++;
    }
    if (len == size)
        return elf_reject(w->f, "%s's string is not NUL-terminated within its %u-byte descriptor",
                          note_name(type), size);
    size_t n = len < dst_len - 1 ? len : dst_len - 1;
    memcpy(dst, w->f->data + off, n);
    dst[n] = 0;
    return 0;
}

static int take_xen_note(struct walk *w, uint32_t type, uint64_t off, uint32_t size)
{
    struct xen_image *o = w->out;
    uint64_t v;
    int rc = 0;
    switch (type) {
    case XEN_ELFNOTE_ENTRY:
        rc = take_number(w, type, off, size, &o->entry);
        w->have_entry = true;
        break;
    case XEN_ELFNOTE_HYPERCALL_PAGE:
        rc = take_number(w, type, off, size, &o->hypercall_page);
        o->has_hypercall_page = true;
        break;
    case XEN_ELFNOTE_VIRT_BASE:
        rc = take_number(w, type, off, size, &o->virt_base);
        w->have_virt_base = true;
        break;
    case XEN_ELFNOTE_PADDR_OFFSET:
        rc = take_number(w, type, off, size, &o->paddr_offset);
        w->have_paddr_offset = true;
        break;
    case XEN_ELFNOTE_INIT_P2M:
        rc = take_number(w, type, off, size, &v);
        if (rc == 0)
            rc = elf_reject(w->f, "XEN_ELFNOTE_INIT_P2M (0x%lx) asks for a P2M list mapped where "
                                  "the image says; hv builds the start-of-day P2M list only",
                            (unsigned long)v);
        break;
    case XEN_ELFNOTE_XEN_VERSION:
        rc = take_string(w, type, off, size, o->xen_version, sizeof(o->xen_version));
        break;
    case XEN_ELFNOTE_GUEST_OS:
        rc = take_string(w, type, off, size, o->guest_os, sizeof(o->guest_os));
        break;
    case XEN_ELFNOTE_GUEST_VERSION:
        rc = take_string(w, type, off, size, o->guest_version, sizeof(o->guest_version));
        break;
    case XEN_ELFNOTE_LOADER:
        rc = take_string(w, type, off, size, o->loader, sizeof(o->loader));
        break;
    case XEN_ELFNOTE_FEATURES:
        rc = take_string(w, type, off, size, o->features, sizeof(o->features));
        break;
    default:
        break; /* Xen ignores the notes it does not use; so does hv */
    }
    return rc;
}

/* Walks the notes of one region. Detecting, a malformed note ends the walk
 * (what was seen so far counts); checking, it is the reason. */
static int walk_region(struct walk *w, const struct note_region *r)
{
    const struct elf_file *f = w->f;
    if (!elf_in_file(f, r->off, r->size)) {
        if (!w->strict)
            return 0;
        return elf_reject(f, "%s %u (notes): file range 0x%lx+0x%lx runs past the end of the file "
                             "(0x%zx bytes)", r->kind, r->index, (unsigned long)r->off,
                          (unsigned long)r->size, f->size);
    }
    /* Padding as readelf and Xen's libelf read it: offsets from the
     * note's start, to the region's alignment (4, or 8 for 8-aligned). */
    uint64_t align = r->align == 8 ? 8 : 4;
    uint64_t pos = r->off, end = r->off + r->size;
    for (unsigned n = 0; pos < end; n++) {
        if (w->budget == 0)
            return w->strict ? elf_reject(f, "more than %u notes; no image needs so many",
                                          XEN_IMAGE_MAX_NOTES)
                             : 0;
        w->budget--;
        if (end - pos < NOTE_HEADER_SIZE)
            return bad_note(w, r, n, pos, "cut off: fewer than 12 bytes left for a note header");
        uint32_t namesz = elf_read32(f, pos), descsz = elf_read32(f, pos + 4);
        uint32_t type = elf_read32(f, pos + 8);
        uint64_t name_off = pos + NOTE_HEADER_SIZE;
        if (namesz > end - name_off)
            return bad_note(w, r, n, pos, "its name runs past the end of the notes");
        uint64_t name_end = name_off + namesz;
        uint64_t name_pad = (align - (NOTE_HEADER_SIZE + namesz) % align) % align;
        uint64_t desc_off = name_pad <= end - name_end ? name_end + name_pad : end;
        if (descsz > end - desc_off)
            return bad_note(w, r, n, pos, "its descriptor runs past the end of the notes");
        if (namesz == 4 && memcmp(f->data + name_off, XEN_NOTE_OWNER, 4) == 0) {
            w->xen_notes++;
            if (w->out) {
                int rc = take_xen_note(w, type, desc_off, descsz);
                if (rc)
                    return rc;
            }
        }
        uint64_t desc_end = desc_off + descsz;
        uint64_t desc_pad = (align - descsz % align) % align;
        if (end - desc_end <= desc_pad)
            break; /* the last note's padding may be left out */
        pos = desc_end + desc_pad;
    }
    return 0;
}

static int walk_segments(struct walk *w, const struct elf_check *c)
{
    for (unsigned i = 0; i < c->eh.e_phnum; i++) {
        Elf64_Phdr ph;
        elf_phdr(c, i, &ph);
        if (ph.p_type != PT_NOTE)
            continue;
        struct note_region r = {ph.p_offset, ph.p_filesz, ph.p_align, "program header", i};
        int rc = walk_region(w, &r);
        if (rc)
            return rc;
    }
    return 0;
}

static int walk_sections(struct walk *w, const struct elf_check *c)
{
    const struct elf_file *f = w->f;
    const Elf64_Ehdr *eh = &c->eh;
    if (eh->e_shoff == 0 || eh->e_shnum == 0)
        return 0; /* no section headers (stripped of them): nothing to look at */
    if (eh->e_shentsize != sizeof(Elf64_Shdr))
        return w->strict ? elf_reject(f, "section headers of %u bytes (e_shentsize); ELF64's are %zu",
                                      eh->e_shentsize, sizeof(Elf64_Shdr))
                         : 0;
    if (eh->e_shnum > XEN_IMAGE_MAX_SECTIONS)
        return w->strict ? elf_reject(f, "%u section headers; at most %u are read", eh->e_shnum,
                                      XEN_IMAGE_MAX_SECTIONS)
                         : 0;
    if (!elf_in_file(f, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)))
        return w->strict ? elf_reject(f, "the section header table (0x%lx, %u entries) runs past the "
                                         "end of the file (0x%zx bytes)",
                                      (unsigned long)eh->e_shoff, eh->e_shnum, f->size)
                         : 0;
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        uint64_t at = eh->e_shoff + (uint64_t)i * sizeof(Elf64_Shdr);
        /* The type first: every native image comes through here, and most
         * of its sections are not notes (boot time, make bench). */
        if (elf_read32(f, at + offsetof(Elf64_Shdr, sh_type)) != SHT_NOTE)
            continue;
        Elf64_Shdr sh;
        elf_copy(f, at, &sh, sizeof(sh));
        struct note_region r = {sh.sh_offset, sh.sh_size, sh.sh_addralign, "section", i};
        int rc = walk_region(w, &r);
        if (rc)
            return rc;
    }
    return 0;
}

/* Xen's order: note segments; only if they hold no Xen note, sections. */
static int find_notes(struct walk *w, const struct elf_check *c)
{
    int rc = walk_segments(w, c);
    if (rc || w->xen_notes)
        return rc;
    if (w->out)
        w->out->notes_in_sections = true;
    return walk_sections(w, c);
}

bool xen_image_detect(const void *file, size_t size)
{
    struct elf_check c;
    memset(&c, 0, sizeof(c));
    c.f.data = file;
    c.f.size = size;
    if (elf_check_header(&c) != 0)
        return false;
    struct walk w = {&c.f, false, XEN_IMAGE_MAX_NOTES, 0, NULL, false, false, false};
    find_notes(&w, &c);
    return w.xen_notes > 0;
}

static bool starts_with(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return false;
    return true;
}

static int take_segments(struct elf_check *c, struct xen_image *o, uint64_t virt_offset)
{
    const struct elf_file *f = &c->f;
    for (unsigned i = 0; i < c->eh.e_phnum; i++) {
        Elf64_Phdr ph;
        elf_phdr(c, i, &ph);
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_filesz > ph.p_memsz)
            return elf_reject(f, "program header %u: file size 0x%lx is larger than its memory size "
                                 "0x%lx", i, (unsigned long)ph.p_filesz, (unsigned long)ph.p_memsz);
        int rc = elf_check_file_range(c, i, NULL, &ph);
        if (rc)
            return rc;
        uint64_t va = ph.p_paddr + virt_offset; /* modulo 2^64, as Xen computes it */
        if (va > UINT64_MAX - ph.p_memsz)
            return elf_reject(f, "program header %u: address 0x%lx+0x%lx wraps around",
                              i, (unsigned long)va, (unsigned long)ph.p_memsz);
        if (o->segment_count == XEN_IMAGE_MAX_SEGMENTS)
            return elf_reject(f, "more than %u loadable segments", XEN_IMAGE_MAX_SEGMENTS);
        /* Insertion keeps them sorted by address. */
        size_t k = o->segment_count++;
        while (k > 0 && o->segments[k - 1].vaddr > va) {
            o->segments[k] = o->segments[k - 1];
            k--;
        }
        o->segments[k] = (struct xen_image_segment){va, ph.p_memsz, ph.p_offset, ph.p_filesz,
                                                    ph.p_flags};
    }
    if (o->segment_count == 0)
        return elf_reject(f, "no loadable segment (PT_LOAD with memory)");
    for (size_t i = 1; i < o->segment_count; i++) {
        const struct xen_image_segment *a = &o->segments[i - 1], *b = &o->segments[i];
        if (b->vaddr - a->vaddr < a->memsz)
            return elf_reject(f, "loadable segments at 0x%lx+0x%lx and 0x%lx overlap",
                              (unsigned long)a->vaddr, (unsigned long)a->memsz,
                              (unsigned long)b->vaddr);
    }
    const struct xen_image_segment *last = &o->segments[o->segment_count - 1];
    o->kstart = o->segments[0].vaddr & ~(PAGE - 1);
    uint64_t end = last->vaddr + last->memsz;
    if (end > UINT64_MAX - (PAGE - 1))
        return elf_reject(f, "the image ends at 0x%lx, at the top of the address space",
                          (unsigned long)end);
    o->kend = (end + PAGE - 1) & ~(PAGE - 1);
    return 0;
}

int xen_image_check(const void *file, size_t size, uint64_t image_max, struct xen_image *out,
                    char *why, size_t why_len)
{
    struct elf_check c;
    memset(&c, 0, sizeof(c));
    memset(out, 0, sizeof(*out));
    c.f = (struct elf_file){file, size, why, why_len};
    if (why_len > 0)
        why[0] = 0;
    int rc = elf_check_header(&c);
    if (rc)
        return rc;
    const struct elf_file *f = &c.f;
    if (c.eh.e_type != ET_EXEC)
        return elf_reject(f, "a Xen PV image must be ET_EXEC (e_type 2); this one has type %u",
                          c.eh.e_type);
    struct walk w = {f, true, XEN_IMAGE_MAX_NOTES, 0, out, false, false, false};
    rc = find_notes(&w, &c);
    if (rc)
        return rc;
    if (w.xen_notes == 0)
        return elf_reject(f, "no note of owner \"Xen\" in a note segment or section");
    /* What Xen's loader requires of the notes (libelf's note check). */
    if (!starts_with(out->loader, "generic") && !starts_with(out->guest_os, "linux"))
        return elf_reject(f, "XEN_ELFNOTE_LOADER is \"%s\" and XEN_ELFNOTE_GUEST_OS \"%s\": Xen "
                             "loads only images for the \"generic\" loader or Linux",
                          out->loader, out->guest_os);
    if (!starts_with(out->xen_version, "xen-3.0"))
        return elf_reject(f, "XEN_ELFNOTE_XEN_VERSION is \"%s\"; the x86-64 PV interface is "
                             "\"xen-3.0\"", out->xen_version);
    if (!w.have_virt_base)
        out->virt_base = 0;
    if (!w.have_paddr_offset)
        out->paddr_offset = out->virt_base;
    if (out->virt_base >= image_max)
        return elf_reject(f, "XEN_ELFNOTE_VIRT_BASE 0x%lx is not below 0x%lx: hv places Xen PV "
                             "guests in the lower half only (a kernel linked in the upper half, "
                             "as Linux's, is not supported)",
                          (unsigned long)out->virt_base, (unsigned long)image_max);
    rc = take_segments(&c, out, out->virt_base - out->paddr_offset);
    if (rc)
        return rc;
    if (out->kend > image_max || out->kstart < out->virt_base)
        return elf_reject(f, "the image spans 0x%lx-0x%lx; it must lie within 0x%lx-0x%lx "
                             "(from VIRT_BASE to the end of the guest image area)",
                          (unsigned long)out->kstart, (unsigned long)out->kend,
                          (unsigned long)out->virt_base, (unsigned long)image_max);
    if (out->kend - out->kstart > MAX_IMAGE_SPAN)
        return elf_reject(f, "the image spans 0x%lx bytes; at most 0x%lx",
                          (unsigned long)(out->kend - out->kstart), (unsigned long)MAX_IMAGE_SPAN);
    if (!w.have_entry)
        out->entry = c.eh.e_entry;
    if (out->entry < out->kstart || out->entry >= out->kend)
        return elf_reject(f, "the entry point 0x%lx (%s) lies outside the image 0x%lx-0x%lx",
                          (unsigned long)out->entry,
                          w.have_entry ? "XEN_ELFNOTE_ENTRY" : "e_entry",
                          (unsigned long)out->kstart, (unsigned long)out->kend);
    if (out->has_hypercall_page &&
        ((out->hypercall_page & (PAGE - 1)) || out->hypercall_page < out->kstart ||
         out->hypercall_page >= out->kend))
        return elf_reject(f, "XEN_ELFNOTE_HYPERCALL_PAGE 0x%lx is not a page of the image "
                             "0x%lx-0x%lx", (unsigned long)out->hypercall_page,
                          (unsigned long)out->kstart, (unsigned long)out->kend);
    return 0;
}
