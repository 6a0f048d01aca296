/* Xen PV image detection and validation (hv/xen/xen_elf.c). Images are
 * built in memory from the public note format (elfnote.h: owner "Xen",
 * types and descriptor kinds), shaped like the two yardstick images of
 * docs/plans/xen-personality.md: notes in a PT_NOTE (XTF) or only in a
 * .note section (Mini-OS). Each check gets a heap copy of exactly the
 * file's size, so a read past the end is an ASan error.
 *
 * With HV_XEN_ELF_CORPUS_DIR set, every file checked is also written there
 * (the seed corpus of tests/fuzz/fuzz_xen_elf.c). */
#include "hv/xen/xen_elf.h"

#include <assert.h>
#include <stdlib.h>

#include "hv/xen/xen_abi.h"
#include "lib/elf64.h"
#include "tests/unit/check.h"

#define IMAGE_MAX 0x0000800000000000ULL
#define SHT_NOTE 7
#define BUF 0x4000

static unsigned char buf[BUF];
static size_t size;
static unsigned corpus_n;

static void put(uint64_t off, const void *p, size_t n)
{
    assert(off + n <= BUF);
    memcpy(buf + off, p, n);
    if (off + n > size)
        size = off + n;
}

/* One note at off, 4-aligned; returns the offset after it. */
static uint64_t note(uint64_t off, const char *owner, uint32_t type, const void *desc, uint32_t descsz)
{
    uint32_t namesz = (uint32_t)strlen(owner) + 1;
    uint32_t h[3] = {namesz, descsz, type};
    put(off, h, 12);
    put(off + 12, owner, namesz);
    uint64_t d = off + 12 + ((namesz + 3) & ~3u);
    put(d, desc, descsz);
    uint64_t end = d + ((descsz + 3) & ~3u);
    if (end > size)
        size = end; /* the padding's zeros are in the file too */
    return end;
}

static uint64_t str_note(uint64_t off, uint32_t type, const char *s)
{
    return note(off, "Xen", type, s, (uint32_t)strlen(s) + 1);
}

static uint64_t num_note(uint64_t off, uint32_t type, uint64_t v, uint32_t bytes)
{
    return note(off, "Xen", type, &v, bytes);
}

/* The notes of a generic-loader image, hypercall page at hcall. */
static uint64_t xen_notes(uint64_t off, uint64_t hcall, uint32_t hcall_bytes)
{
    off = str_note(off, XEN_ELFNOTE_GUEST_OS, "hv-test");
    off = str_note(off, XEN_ELFNOTE_LOADER, "generic");
    off = num_note(off, XEN_ELFNOTE_HYPERCALL_PAGE, hcall, hcall_bytes);
    off = str_note(off, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    off = str_note(off, XEN_ELFNOTE_FEATURES, "!writable_page_tables|pae_pgdir_above_4gb");
    return off;
}

static Elf64_Ehdr ehdr(uint16_t phnum, uint64_t entry)
{
    Elf64_Ehdr e;
    memset(&e, 0, sizeof(e));
    static const unsigned char ident[EI_NIDENT] = {0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB,
                                                   EV_CURRENT, ELFOSABI_SYSV};
    memcpy(e.e_ident, ident, EI_NIDENT);
    e.e_type = ET_EXEC;
    e.e_machine = EM_X86_64;
    e.e_version = EV_CURRENT;
    e.e_entry = entry;
    e.e_phoff = 64;
    e.e_ehsize = 64;
    e.e_phentsize = sizeof(Elf64_Phdr);
    e.e_phnum = phnum;
    return e;
}

static Elf64_Phdr phdr(uint32_t type, uint32_t flags, uint64_t off, uint64_t va, uint64_t filesz,
                       uint64_t memsz)
{
    return (Elf64_Phdr){type, flags, off, va, va, filesz, memsz, type == PT_LOAD ? 4096 : 4};
}

/* XTF's shape: one RWX PT_LOAD at 0x100000 (file 0x1000..0x2000 plus bss)
 * and a PT_NOTE over the notes at 0x200. */
static uint64_t notes_end;
static void build_xtf(uint64_t hcall)
{
    memset(buf, 0, sizeof(buf));
    size = 0;
    notes_end = xen_notes(0x200, hcall, 8);
    Elf64_Ehdr e = ehdr(2, 0x100000);
    put(0, &e, sizeof(e));
    Elf64_Phdr ph[2] = {phdr(PT_LOAD, PF_R | PF_W | PF_X, 0x1000, 0x100000, 0x1000, 0x11000),
                        phdr(PT_NOTE, PF_R, 0x200, 0, notes_end - 0x200, notes_end - 0x200)};
    put(64, ph, sizeof(ph));
    static const unsigned char code[] = {0x0f, 0x0b}; /* ud2 */
    put(0x1000, code, sizeof(code));
    put(0x1ff0, code, 2);
    size = 0x2000;
}

/* Mini-OS's shape: text R+X at 0, data RW at 0x11060, no PT_NOTE, the
 * notes in a non-loaded SHT_NOTE section. */
static void build_minios(void)
{
    memset(buf, 0, sizeof(buf));
    size = 0;
    Elf64_Ehdr e = ehdr(2, 0);
    Elf64_Phdr ph[2] = {phdr(PT_LOAD, PF_R | PF_X, 0x1000, 0, 0x1000, 0x10e33),
                        phdr(PT_LOAD, PF_R | PF_W, 0x2060, 0x11060, 0x100, 0x5d488)};
    put(64, ph, sizeof(ph));
    size = 0x3000;
    uint64_t nend = xen_notes(0x3000, 0x2000, 4);
    Elf64_Shdr sh[2];
    memset(sh, 0, sizeof(sh));
    sh[1].sh_type = SHT_NOTE;
    sh[1].sh_offset = 0x3000;
    sh[1].sh_size = nend - 0x3000;
    sh[1].sh_addralign = 4;
    uint64_t shoff = (nend + 7) & ~7ull;
    put(shoff, sh, sizeof(sh));
    e.e_shoff = shoff;
    e.e_shentsize = sizeof(Elf64_Shdr);
    e.e_shnum = 2;
    put(0, &e, sizeof(e));
}

static void save_corpus(void)
{
    const char *dir = getenv("HV_XEN_ELF_CORPUS_DIR");
    if (!dir)
        return;
    char path[512];
    snprintf(path, sizeof(path), "%s/xen-%03u.elf", dir, corpus_n++);
    FILE *fp = fopen(path, "wb");
    if (fp) {
        fwrite(buf, 1, size, fp);
        fclose(fp);
    }
}

static char why[200];
static struct xen_image img;

static bool detect(void)
{
    save_corpus();
    void *copy = malloc(size ? size : 1);
    memcpy(copy, buf, size);
    bool r = xen_image_detect(copy, size);
    free(copy);
    return r;
}

static int check(void)
{
    save_corpus();
    void *copy = malloc(size ? size : 1);
    memcpy(copy, buf, size);
    int r = xen_image_check(copy, size, IMAGE_MAX, &img, why, sizeof(why));
    free(copy);
    return r;
}

#define REFUSED_WITH(text)                                                  \
    do {                                                                    \
        CHECK(check() < 0);                                                 \
        if (!strstr(why, text))                                             \
            printf("  reason was: %s\n", why);                              \
        CHECK(strstr(why, text) != NULL);                                   \
    } while (0)

static void xtf_shape_is_detected_and_placed(void)
{
    build_xtf(0x106000);
    CHECK(detect());
    CHECK_EQ_U64(check(), 0);
    CHECK_STR_EQ(why, "");
    CHECK(!img.notes_in_sections);
    CHECK_EQ_U64(img.kstart, 0x100000);
    CHECK_EQ_U64(img.kend, 0x111000);
    CHECK_EQ_U64(img.entry, 0x100000);
    CHECK(img.has_hypercall_page);
    CHECK_EQ_U64(img.hypercall_page, 0x106000);
    CHECK_EQ_U64(img.virt_base, 0);
    CHECK_EQ_U64(img.segment_count, 1);
    CHECK_EQ_U64(img.segments[0].flags, PF_R | PF_W | PF_X); /* RWX is Xen's normal */
    CHECK_STR_EQ(img.guest_os, "hv-test");
    CHECK_STR_EQ(img.loader, "generic");
    CHECK_STR_EQ(img.xen_version, "xen-3.0");
    CHECK_STR_EQ(img.features, "!writable_page_tables|pae_pgdir_above_4gb");
}

static void minios_shape_notes_only_in_a_section(void)
{
    build_minios();
    CHECK(detect());
    CHECK_EQ_U64(check(), 0);
    CHECK(img.notes_in_sections);
    CHECK_EQ_U64(img.kstart, 0);
    CHECK_EQ_U64(img.kend, 0x6f000);
    CHECK_EQ_U64(img.segment_count, 2);
    CHECK_EQ_U64(img.hypercall_page, 0x2000); /* a 4-byte number */
    CHECK_EQ_U64(img.entry, 0);
}

static void other_files_are_not_xen(void)
{
    memset(buf, 0, sizeof(buf));
    size = 0;
    CHECK(!detect()); /* empty */
    put(0, "hello, world", 12);
    CHECK(!detect());
    /* An ELF with only an "hv" note and a GNU note. */
    memset(buf, 0, sizeof(buf));
    size = 0;
    uint64_t end = note(0x200, "GNU", 3, "0123456789abcdef0123", 20);
    end = note(end, "hv", 1, "xxxxxxxx", 8);
    Elf64_Ehdr e = ehdr(2, 0x400000);
    put(0, &e, sizeof(e));
    Elf64_Phdr ph[2] = {phdr(PT_LOAD, PF_R | PF_X, 0x1000, 0x400000, 0x10, 0x10),
                        phdr(PT_NOTE, PF_R, 0x200, 0, end - 0x200, end - 0x200)};
    put(64, ph, sizeof(ph));
    size = 0x1010;
    CHECK(!detect());
    /* "Xe" or "Xenx" owners are not "Xen". */
    build_xtf(0x106000);
    memcpy(buf + 0x200 + 12, "Xe\0", 3);
    buf[0x200] = 3;
    CHECK(detect()); /* the other notes still are */
}

static void segments_first_then_sections(void)
{
    /* Xen notes in both: the PT_NOTE's count, the section is not read. */
    build_minios();
    uint64_t end = xen_notes(0x3800, 0x3000, 8);
    Elf64_Ehdr e;
    memcpy(&e, buf, sizeof(e));
    e.e_phnum = 3;
    put(0, &e, sizeof(e));
    Elf64_Phdr pn = phdr(PT_NOTE, PF_R, 0x3800, 0, end - 0x3800, end - 0x3800);
    put(64 + 2 * sizeof(Elf64_Phdr), &pn, sizeof(pn));
    CHECK_EQ_U64(check(), 0);
    CHECK(!img.notes_in_sections);
    CHECK_EQ_U64(img.hypercall_page, 0x3000);
}

static void note_rules_are_xens(void)
{
    build_xtf(0x106001);
    REFUSED_WITH("XEN_ELFNOTE_HYPERCALL_PAGE 0x106001 is not a page of the image");
    build_xtf(0x200000);
    REFUSED_WITH("XEN_ELFNOTE_HYPERCALL_PAGE 0x200000 is not a page of the image");
    build_xtf(0x106000);
    uint64_t end = str_note(notes_end, XEN_ELFNOTE_XEN_VERSION, "xen-2.0");
    Elf64_Phdr pn = phdr(PT_NOTE, PF_R, 0x200, 0, end - 0x200, end - 0x200);
    put(64 + sizeof(Elf64_Phdr), &pn, sizeof(pn));
    REFUSED_WITH("XEN_ELFNOTE_XEN_VERSION is \"xen-2.0\"");
    build_xtf(0x106000);
    end = str_note(notes_end, XEN_ELFNOTE_LOADER, "special");
    pn = phdr(PT_NOTE, PF_R, 0x200, 0, end - 0x200, end - 0x200);
    put(64 + sizeof(Elf64_Phdr), &pn, sizeof(pn));
    REFUSED_WITH("XEN_ELFNOTE_LOADER is \"special\"");
    build_xtf(0x106000);
    end = num_note(notes_end, XEN_ELFNOTE_INIT_P2M, 0xffffea0000000000ull, 8);
    pn = phdr(PT_NOTE, PF_R, 0x200, 0, end - 0x200, end - 0x200);
    put(64 + sizeof(Elf64_Phdr), &pn, sizeof(pn));
    REFUSED_WITH("XEN_ELFNOTE_INIT_P2M");
    build_xtf(0x106000);
    end = num_note(notes_end, XEN_ELFNOTE_ENTRY, 0x100000, 3);
    pn = phdr(PT_NOTE, PF_R, 0x200, 0, end - 0x200, end - 0x200);
    put(64 + sizeof(Elf64_Phdr), &pn, sizeof(pn));
    REFUSED_WITH("XEN_ELFNOTE_ENTRY has a 3-byte descriptor");
    build_xtf(0x106000);
    end = num_note(notes_end, XEN_ELFNOTE_ENTRY, 0x400000, 8);
    pn = phdr(PT_NOTE, PF_R, 0x200, 0, end - 0x200, end - 0x200);
    put(64 + sizeof(Elf64_Phdr), &pn, sizeof(pn));
    REFUSED_WITH("the entry point 0x400000 (XEN_ELFNOTE_ENTRY) lies outside");
    build_xtf(0x106000);
    end = note(notes_end, "Xen", XEN_ELFNOTE_GUEST_VERSION, "abcd", 4); /* no NUL */
    pn = phdr(PT_NOTE, PF_R, 0x200, 0, end - 0x200, end - 0x200);
    put(64 + sizeof(Elf64_Phdr), &pn, sizeof(pn));
    REFUSED_WITH("XEN_ELFNOTE_GUEST_VERSION's string is not NUL-terminated");
    build_xtf(0x106000);
    end = note(notes_end, "Xen", XEN_ELFNOTE_GUEST_OS, "a\x01\0", 3);
    pn = phdr(PT_NOTE, PF_R, 0x200, 0, end - 0x200, end - 0x200);
    put(64 + sizeof(Elf64_Phdr), &pn, sizeof(pn));
    REFUSED_WITH("XEN_ELFNOTE_GUEST_OS has the byte 0x01");
}

static void upper_half_and_layout_rules(void)
{
    build_xtf(0x106000);
    uint64_t end = num_note(notes_end, XEN_ELFNOTE_VIRT_BASE, 0xffffffff80000000ull, 8);
    Elf64_Phdr pn = phdr(PT_NOTE, PF_R, 0x200, 0, end - 0x200, end - 0x200);
    put(64 + sizeof(Elf64_Phdr), &pn, sizeof(pn));
    REFUSED_WITH("lower half only");
    /* VIRT_BASE and PADDR_OFFSET: placed at p_paddr + (virt_base - paddr_offset). */
    build_xtf(0x206000);
    end = num_note(notes_end, XEN_ELFNOTE_VIRT_BASE, 0x100000, 8);
    end = num_note(end, XEN_ELFNOTE_PADDR_OFFSET, 0, 8);
    end = num_note(end, XEN_ELFNOTE_ENTRY, 0x200000, 8);
    pn = phdr(PT_NOTE, PF_R, 0x200, 0, end - 0x200, end - 0x200);
    put(64 + sizeof(Elf64_Phdr), &pn, sizeof(pn));
    CHECK_EQ_U64(check(), 0);
    CHECK_EQ_U64(img.kstart, 0x200000);
    CHECK_EQ_U64(img.entry, 0x200000);
    /* Overlapping segments. */
    build_xtf(0x106000);
    Elf64_Ehdr e;
    memcpy(&e, buf, sizeof(e));
    e.e_phnum = 3;
    put(0, &e, sizeof(e));
    Elf64_Phdr pl = phdr(PT_LOAD, PF_R, 0x1000, 0x110000, 0x10, 0x10);
    put(64 + 2 * sizeof(Elf64_Phdr), &pl, sizeof(pl));
    REFUSED_WITH("overlap");
    /* ET_DYN is not a Xen PV image. */
    build_xtf(0x106000);
    memcpy(&e, buf, sizeof(e));
    e.e_type = 3;
    put(0, &e, sizeof(e));
    REFUSED_WITH("must be ET_EXEC");
}

/* Sizes a hostile file can choose: detection stops quietly, the check
 * names the note and what is wrong; nothing reads outside the file. */
static void hostile_note_sizes(void)
{
    static const uint32_t bad[] = {0xffffffffu, 0xfffffff4u, 0x80000000u, 0x10000u, 4093};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        build_xtf(0x106000);
        memcpy(buf + 0x200, &bad[i], 4); /* first note's namesz */
        (void)detect(); /* either answer; what matters is no read outside the file (ASan) */
        REFUSED_WITH("program header 1 (notes): note 0 at file offset 0x200: its ");
        REFUSED_WITH("-byte name runs past the end of the notes");
        build_xtf(0x106000);
        memcpy(buf + 0x204, &bad[i], 4); /* first note's descsz */
        (void)detect();
        REFUSED_WITH("-byte descriptor runs past the end of the notes");
    }
    /* The note segment itself past the end of the file, or wrapping. */
    build_xtf(0x106000);
    Elf64_Phdr pn = phdr(PT_NOTE, PF_R, 0x1ff0, 0, 0x100, 0x100);
    put(64 + sizeof(Elf64_Phdr), &pn, sizeof(pn));
    CHECK(!detect());
    REFUSED_WITH("runs past the end of the file");
    build_xtf(0x106000);
    pn = phdr(PT_NOTE, PF_R, 0xfffffffffffffff0ull, 0, 0x20, 0x20);
    put(64 + sizeof(Elf64_Phdr), &pn, sizeof(pn));
    CHECK(!detect());
    REFUSED_WITH("runs past the end of the file");
    /* A note header cut off at the end of the segment. */
    build_xtf(0x106000);
    pn = phdr(PT_NOTE, PF_R, 0x200, 0, notes_end - 0x200 + 8, 0);
    put(64 + sizeof(Elf64_Phdr), &pn, sizeof(pn));
    CHECK(detect()); /* the whole notes before it count */
    REFUSED_WITH("its 12-byte header runs past the end of the notes");
    /* Section tables: hostile count, entry size, offset. */
    build_minios();
    Elf64_Ehdr e;
    memcpy(&e, buf, sizeof(e));
    e.e_shnum = 0xffff;
    put(0, &e, sizeof(e));
    CHECK(!detect());
    REFUSED_WITH("section headers; at most");
    build_minios();
    memcpy(&e, buf, sizeof(e));
    e.e_shoff = size - 8;
    put(0, &e, sizeof(e));
    CHECK(!detect());
    REFUSED_WITH("section header table");
    build_minios();
    memcpy(&e, buf, sizeof(e));
    e.e_shentsize = 40;
    put(0, &e, sizeof(e));
    CHECK(!detect());
    REFUSED_WITH("e_shentsize");
    /* A section of notes with a huge size. */
    build_minios();
    memcpy(&e, buf, sizeof(e));
    Elf64_Shdr sh;
    memcpy(&sh, buf + e.e_shoff + sizeof(sh), sizeof(sh));
    sh.sh_size = 0xffffffffffff0000ull;
    put(e.e_shoff + sizeof(sh), &sh, sizeof(sh));
    CHECK(!detect());
    REFUSED_WITH("section 1 (notes): file range");
}

static void many_notes_are_bounded(void)
{
    memset(buf, 0, sizeof(buf));
    size = 0;
    uint64_t off = 0x200;
    for (unsigned i = 0; i < 300; i++)
        off = note(off, "Xen", 200, "", 0); /* unknown type: ignored by Xen */
    Elf64_Ehdr e = ehdr(2, 0x100000);
    put(0, &e, sizeof(e));
    Elf64_Phdr ph[2] = {phdr(PT_LOAD, PF_R | PF_X, 0x3000, 0x100000, 0x10, 0x10),
                        phdr(PT_NOTE, PF_R, 0x200, 0, off - 0x200, off - 0x200)};
    put(64, ph, sizeof(ph));
    size = 0x3010;
    CHECK(detect());
    REFUSED_WITH("more than 256 notes");
}

int main(void)
{
    check_suite = "xen_elf";
    RUN_TEST(xtf_shape_is_detected_and_placed);
    RUN_TEST(minios_shape_notes_only_in_a_section);
    RUN_TEST(other_files_are_not_xen);
    RUN_TEST(segments_first_then_sections);
    RUN_TEST(note_rules_are_xens);
    RUN_TEST(upper_half_and_layout_rules);
    RUN_TEST(hostile_note_sizes);
    RUN_TEST(many_notes_are_bounded);
    return check_finish();
}
