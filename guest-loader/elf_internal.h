/* Shared by the parts of the guest image validator (guest-loader/elf_*.c);
 * not for other users. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest-loader/elf_image.h"
#include "lib/elf64.h"

#define ELF_PAGE_MASK (ELF_IMAGE_PAGE_SIZE - 1)

/* The hostile file and where to explain what is wrong with it. */
struct elf_file {
    const unsigned char *data;
    size_t size;
    char *why;
    size_t why_len;
};

/* Everything elf_image_check learns on the way. */
struct elf_check {
    struct elf_file f;
    Elf64_Ehdr eh;
    struct elf_image *out;
    /* The PT_LOADs with memory, as in the file (before the bias), sorted by
     * p_vaddr once all are read; load_index is each one's program header. */
    size_t load_count;
    Elf64_Phdr loads[ELF_IMAGE_MAX_SEGMENTS];
    unsigned load_index[ELF_IMAGE_MAX_SEGMENTS];
};

/* Fills f->why and returns -1, so a check reads `return elf_reject(...)`. */
int elf_reject(const struct elf_file *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whether [off, off + len) lies inside the file; never overflows. */
bool elf_in_file(const struct elf_file *f, uint64_t off, uint64_t len);

/* Copies n bytes at off, which the caller has checked with elf_in_file. The
 * file is read bytewise: nothing in it is aligned for sure. */
void elf_copy(const struct elf_file *f, uint64_t off, void *dst, size_t n);
uint32_t elf_read32(const struct elf_file *f, uint64_t off);
uint64_t elf_read64(const struct elf_file *f, uint64_t off);

/* Copies the NUL-terminated string at file offset off into dst if it ends
 * within max bytes (its NUL included) and within the file, fits in dst and
 * is all printable ASCII; returns false (dst then unspecified) otherwise. */
bool elf_string(const struct elf_file *f, uint64_t off, uint64_t max, char *dst, size_t dst_len);

/* Program header i (< e_phnum; the table is already checked to be in the
 * file). */
void elf_phdr(const struct elf_check *c, unsigned i, Elf64_Phdr *ph);

/* The file offset of the file address range [vaddr, vaddr + len), if it
 * lies wholly in the file-backed part of one loadable segment. */
bool elf_vaddr_to_offset(const struct elf_check *c, uint64_t vaddr, uint64_t len, uint64_t *off);

/* Checks the file range of program header `index` against the file size,
 * with the standard reason; `what` names its type, or is NULL for PT_LOAD
 * (the usual case, named by the number alone). */
int elf_check_file_range(const struct elf_check *c, unsigned index, const char *what,
                         const Elf64_Phdr *ph);

/* The ELF header and the bounds of the program header table (elf_header.c);
 * fills c->eh. */
int elf_check_header(struct elf_check *c);

/* PT_DYNAMIC (elf_dynamic.c): sets out->rela_offset/rela_count. Needs the
 * final segments (relocation targets are checked against them). */
int elf_check_dynamic(struct elf_check *c, unsigned index, const Elf64_Phdr *ph);

/* A stretch of the file holding notes, a PT_NOTE segment or a SHT_NOTE
 * section, and its name in reasons: kind ("program header", "section") and
 * index. */
struct elf_note_region {
    uint64_t off, size, align;
    const char *kind;
    unsigned index;
};

/* One note, its name and descriptor inside the region (elf_walk_notes). */
struct elf_note {
    uint32_t namesz, descsz, type;
    uint64_t name_off, desc_off; /* file offsets */
};

/* Checks the region against the file, then each note in turn, calling
 * take(arg, note) on every well-formed note (whatever its owner) until take
 * returns nonzero (returned as it is); a malformed note or region is
 * rejected with its place and reason. Bounded by the region's size: a
 * note is at least 12 bytes (elf_note_walk.c). */
int elf_walk_notes(const struct elf_file *f, const struct elf_note_region *r,
                   int (*take)(void *arg, const struct elf_note *note), void *arg);

/* Whether the note's name is owner_size bytes equal to owner (its NUL
 * included: "hv" is 3 bytes). */
bool elf_note_owner_is(const struct elf_file *f, const struct elf_note *note, const char *owner,
                       uint32_t owner_size);

/* PT_NOTE (elf_note.c): sets out->have_note/note; *hv_note_phdr remembers
 * which program header held the hv note, for the duplicate message. */
int elf_check_notes(struct elf_check *c, unsigned index, const Elf64_Phdr *ph,
                    unsigned *hv_note_phdr);

/* The relocation walk (elf_relocate.c) of entries [first, first + n), a
 * range of the table (the caller's to keep inside it: a restart makes
 * them a bounded piece at a time, guest-loader/loader_build.c); write64
 * NULL only validates. */
int elf_walk_relocations(const struct elf_image *img, const struct elf_file *f, uint64_t first,
                         uint64_t n, int (*write64)(void *arg, uint64_t guest_va, uint64_t value),
                         void *arg);
