/* The walk over the notes of one PT_NOTE segment or SHT_NOTE section,
 * shared by the native validator (elf_note.c: owner "hv") and the Xen PV
 * one (hv/xen/xen_elf.c: owner "Xen"): every note's header, name and
 * descriptor are checked to lie inside the region before its owner's
 * reader sees it, so a malformed note is caught wherever it is. */
#include "guest-loader/elf_internal.h"

#define NOTE_HEADER_SIZE 12

_Static_assert(sizeof(Elf64_Nhdr) == NOTE_HEADER_SIZE, "note header layout");

static int bad_note(const struct elf_file *f, const struct elf_note_region *r, unsigned n,
                    uint64_t pos, uint64_t size, const char *part)
{
    return elf_reject(f, "%s %u (notes): note %u at file offset 0x%lx: its %lu-byte %s runs past "
                         "the end of the notes", r->kind, r->index, n, (unsigned long)pos,
                      (unsigned long)size, part);
}

int elf_walk_notes(const struct elf_file *f, const struct elf_note_region *r,
                   int (*take)(void *arg, const struct elf_note *note), void *arg)
{
    if (!elf_in_file(f, r->off, r->size))
        return elf_reject(f, "%s %u (notes): file range 0x%lx+0x%lx runs past the end of the file "
                             "(0x%zx bytes)", r->kind, r->index, (unsigned long)r->off,
                          (unsigned long)r->size, f->size);
    /* Notes are 4-aligned, except in regions aligned to 8 (GNU property
     * notes), where name and descriptor are padded to 8: readelf, the
     * kernel and Xen's libelf read them so. The padding aligns offsets from
     * the start of the note. */
    uint64_t align = r->align == 8 ? 8 : 4;
    uint64_t pos = r->off, end = r->off + r->size;
    for (unsigned n = 0; pos < end; n++) {
        if (end - pos < NOTE_HEADER_SIZE)
            return bad_note(f, r, n, pos, NOTE_HEADER_SIZE, "header");
        struct elf_note note;
        note.namesz = elf_read32(f, pos);
        note.descsz = elf_read32(f, pos + 4);
        note.type = elf_read32(f, pos + 8);
        note.name_off = pos + NOTE_HEADER_SIZE;
        if (note.namesz > end - note.name_off)
            return bad_note(f, r, n, pos, note.namesz, "name");
        uint64_t name_end = note.name_off + note.namesz;
        uint64_t name_pad = (align - (NOTE_HEADER_SIZE + note.namesz) % align) % align;
        note.desc_off = name_pad <= end - name_end ? name_end + name_pad : end;
        if (note.descsz > end - note.desc_off)
            return bad_note(f, r, n, pos, note.descsz, "descriptor");
        int rc = take(arg, &note);
        if (rc)
            return rc;
        uint64_t desc_end = note.desc_off + note.descsz;
        uint64_t desc_pad = (align - note.descsz % align) % align;
        if (end - desc_end <= desc_pad)
            break; /* the padding of the last note may be left out */
        pos = desc_end + desc_pad;
    }
    return 0;
}

bool elf_note_owner_is(const struct elf_file *f, const struct elf_note *note, const char *owner,
                       uint32_t owner_size)
{
    if (note->namesz != owner_size)
        return false;
    for (uint32_t i = 0; i < owner_size; i++)
        if (f->data[note->name_off + i] != (unsigned char)owner[i])
            return false;
    return true;
}
