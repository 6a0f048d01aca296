/* The guest image validator. Every file in the ESP's images folder is a
 * candidate guest, and any of them may be broken, hostile or simply not meant
 * for hv (a Linux program, an object file, a JPEG). elf_image_check() reads a
 * whole file image from memory, trusts nothing in it, and either describes
 * what to load or says in one sentence why it will not load it.
 *
 * What passes: a little-endian x86-64 ELF64 executable, ET_EXEC (fixed
 * address) or ET_DYN (static-pie, loaded so that its lowest page lands at
 * HV_GUEST_STATIC_PIE_BASE), statically linked (no PT_INTERP, no DT_NEEDED),
 * without thread-local storage, with 1..ELF_IMAGE_MAX_SEGMENTS loadable
 * segments that are W^X, do not share pages, fit in the guest image area and
 * total at most ELF_IMAGE_MAX_MEMORY, an entry point in the file-backed part
 * of an executable segment, only R_X86_64_RELATIVE relocations (and
 * R_X86_64_NONE, which ld sometimes leaves behind), and at most one valid
 * "hv" guest note. Section headers are never read: stripped files are fine.
 *
 * Pure code: no allocation, no global state, freestanding. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/hv/abi.h"

#define ELF_IMAGE_MAX_SEGMENTS 16
/* More program headers than this is not a program a linker made. */
#define ELF_IMAGE_MAX_PHDRS 64
/* Sum of the page-rounded memory sizes of all loadable segments. */
#define ELF_IMAGE_MAX_MEMORY (1ull << 30)
#define ELF_IMAGE_PAGE_SIZE 4096ull

struct elf_segment {
    uint64_t vaddr;  /* guest address of the first byte, load bias applied */
    uint64_t memsz;  /* bytes of memory, > 0 */
    uint64_t offset; /* where the first filesz bytes come from in the file */
    uint64_t filesz; /* <= memsz; the rest [filesz, memsz) is zero-filled */
    uint32_t flags;  /* PF_R|PF_W|PF_X, never PF_W together with PF_X */
};

struct elf_image {
    uint16_t type;      /* ET_EXEC or ET_DYN */
    uint64_t load_bias; /* 0 for ET_EXEC; for ET_DYN (static-pie)
                           HV_GUEST_STATIC_PIE_BASE minus the lowest page-aligned
                           p_vaddr (modulo 2^64: "negative" when the file is
                           linked above the base) */
    uint64_t entry;     /* bias applied */
    size_t segment_count;
    struct elf_segment segments[ELF_IMAGE_MAX_SEGMENTS]; /* PT_LOAD with memsz > 0,
                           bias applied, sorted by vaddr, no two sharing a page */
    uint64_t lowest, highest; /* page-aligned span [lowest, highest) of all
                                 segments, inside [HV_GUEST_IMAGE_MIN, HV_GUEST_IMAGE_MAX) */
    bool have_note;
    struct hv_image_note note; /* the "hv" note if present: abi_version is
                                  HV_ABI_VERSION, name is NUL-terminated and made
                                  of [A-Za-z0-9._-] (empty: the default). The
                                  other fields are as the file has them: zero
                                  means default, and range policy is the caller's */
    bool have_policy_note;
    struct hv_image_policy policy_note; /* the "hv" restart-policy note if present,
                                           as the file has it (guest_policy_apply_note
                                           judges its values) */
    uint64_t rela_offset, rela_count; /* file offset and count of Elf64_Rela
                                         entries (static-pie), 0 if none */
};

/* Validates the file image file[0, size) and describes it in *out.
 * Returns 0 if hv can load it, negative if not; then *out is unspecified and
 * `why` holds one human sentence (no file name: the caller adds it) such as
 * "program header 3: file range 0x1000+0x5000 runs past the end of the file
 * (0x3000 bytes)". Addresses in reasons are the file's own (before the bias).
 * `why` is always NUL-terminated when why_len > 0, possibly truncated; it may
 * be NULL when why_len is 0. On success `why` is set to "".
 * Every relocation is validated here too, so for an accepted image
 * elf_image_relocate() can only fail if write64 does. */
int elf_image_check(const void *file, size_t size, struct elf_image *out, char *why,
                    size_t why_len);

/* Applies the relocations of an image elf_image_check() accepted, for the
 * same file: for every R_X86_64_RELATIVE entry it calls
 * write64(arg, guest_va, load_bias + addend) with guest_va = r_offset +
 * load_bias; R_X86_64_NONE entries are skipped; any other type is refused.
 * Call it after the segments are in place (file bytes copied, the rest
 * zeroed): a target may lie anywhere in a segment's [vaddr, vaddr + memsz),
 * its 8 bytes wholly inside that one segment, and need not be 8-aligned.
 * Segment permissions are deliberately not consulted: the writes happen
 * through the loader's mapping before the guest runs, so a target in a
 * read-only segment (RELRO data, or a text relocation) is safe; the guest
 * only ever sees the relocated bytes with the segment's own permissions.
 * write64 returns 0 on success, non-zero on failure (which stops the walk).
 * Returns 0 on success (also when there is nothing to relocate, as for
 * ET_EXEC), negative with `why` filled as for elf_image_check() otherwise. */
int elf_image_relocate(const struct elf_image *img, const void *file, size_t size,
                       int (*write64)(void *arg, uint64_t guest_va, uint64_t value), void *arg,
                       char *why, size_t why_len);
