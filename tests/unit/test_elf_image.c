/* Guest image validator tests. ELF files are built in memory by a small
 * builder (header, program headers, bytes at chosen offsets); each check gets
 * a heap copy of exactly the file's size, so any read past the end is an ASan
 * error. Rejection tests start from a valid image and break one thing.
 *
 * With HV_ELF_CORPUS_DIR set, every file checked is also written there (the
 * fuzzer's seed corpus, see tests/fuzz/run-fuzz.sh). */
#include "guest-loader/elf_image.h"

#include <assert.h>

#include "lib/elf64.h"
#include "tests/unit/check.h"

#define BUF_MAX 0x20000
#define MAX_PH 80

/* ---- the builder ---- */

struct builder {
    unsigned char data[BUF_MAX];
    size_t size;
    Elf64_Ehdr eh;
    Elf64_Phdr ph[MAX_PH];
    unsigned phnum;
    uint64_t ph_write_off; /* where finish() writes the table (e_phoff may lie) */
};

static struct builder B;

static void grow(struct builder *b, uint64_t end)
{
    assert(end <= BUF_MAX);
    if (end > b->size)
        b->size = end;
}

static void put_bytes(struct builder *b, uint64_t off, const void *p, size_t n)
{
    grow(b, off + n);
    memcpy(b->data + off, p, n);
}

static void put32(struct builder *b, uint64_t off, uint32_t v) { put_bytes(b, off, &v, 4); }
static void put64(struct builder *b, uint64_t off, uint64_t v) { put_bytes(b, off, &v, 8); }

static void fill(struct builder *b, uint64_t off, int byte, size_t n)
{
    grow(b, off + n);
    memset(b->data + off, byte, n);
}

static void b_init(struct builder *b, uint16_t type, uint64_t entry)
{
    memset(b, 0, sizeof(*b));
    static const unsigned char ident[EI_NIDENT] = {0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB,
                                                   EV_CURRENT, ELFOSABI_SYSV};
    memcpy(b->eh.e_ident, ident, EI_NIDENT);
    b->eh.e_type = type;
    b->eh.e_machine = EM_X86_64;
    b->eh.e_version = EV_CURRENT;
    b->eh.e_entry = entry;
    b->eh.e_phoff = sizeof(Elf64_Ehdr);
    b->eh.e_ehsize = sizeof(Elf64_Ehdr);
    b->eh.e_phentsize = sizeof(Elf64_Phdr);
    b->ph_write_off = sizeof(Elf64_Ehdr);
    grow(b, sizeof(Elf64_Ehdr));
}

static unsigned add_ph(struct builder *b, uint32_t type, uint32_t flags, uint64_t offset,
                       uint64_t vaddr, uint64_t filesz, uint64_t memsz, uint64_t align)
{
    assert(b->phnum < MAX_PH);
    Elf64_Phdr *ph = &b->ph[b->phnum];
    *ph = (Elf64_Phdr){.p_type = type, .p_flags = flags, .p_offset = offset, .p_vaddr = vaddr,
                       .p_paddr = vaddr, .p_filesz = filesz, .p_memsz = memsz, .p_align = align};
    b->eh.e_phnum++;
    return b->phnum++;
}

/* A segment with its file bytes filled with `byte`. */
static unsigned add_load(struct builder *b, uint32_t flags, uint64_t offset, uint64_t vaddr,
                         uint64_t filesz, uint64_t memsz, int byte)
{
    if (filesz)
        fill(b, offset, byte, filesz);
    return add_ph(b, PT_LOAD, flags, offset, vaddr, filesz, memsz, 0x1000);
}

static void finish(struct builder *b)
{
    memcpy(b->data, &b->eh, sizeof(b->eh));
    for (unsigned i = 0; i < b->phnum; i++)
        put_bytes(b, b->ph_write_off + i * sizeof(Elf64_Phdr), &b->ph[i], sizeof(Elf64_Phdr));
}

/* A note at off; returns its size including padding to `align`. */
static size_t put_note(struct builder *b, uint64_t off, const char *name, uint32_t namesz,
                       uint32_t type, const void *desc, uint32_t descsz, unsigned align)
{
    put32(b, off, namesz);
    put32(b, off + 4, descsz);
    put32(b, off + 8, type);
    size_t pos = 12;
    put_bytes(b, off + pos, name, namesz);
    pos = (pos + namesz + align - 1) / align * align;
    put_bytes(b, off + pos, desc, descsz);
    return (pos + descsz + align - 1) / align * align;
}

static struct hv_image_note hv_note(const char *name)
{
    struct hv_image_note n = {.abi_version = HV_ABI_VERSION, .vcpus = 2,
                              .memory_bytes = 16u << 20, .stack_bytes = 0x10000};
    strncpy(n.name, name, sizeof(n.name));
    return n;
}

static size_t put_hv_note(struct builder *b, uint64_t off, const struct hv_image_note *n)
{
    return put_note(b, off, "hv", 3, HV_NOTE_GUEST, n, sizeof(*n), 4);
}

/* ---- the standard images ---- */

/* ET_EXEC at 0x400000: 0 headers (R), 1 text (RX), 2 rodata (R), 3 data+bss
 * (RW), 4 GNU_STACK (RW). File size 0x3080. */
enum { EX_HDR, EX_TEXT, EX_RODATA, EX_DATA, EX_STACK };
#define EX_ENTRY 0x401010
#define EX_SIZE 0x3080

static void make_exec(struct builder *b)
{
    b_init(b, ET_EXEC, EX_ENTRY);
    add_ph(b, PT_LOAD, PF_R, 0, 0x400000, 0x300, 0x300, 0x1000);
    add_load(b, PF_R | PF_X, 0x1000, 0x401000, 0x200, 0x200, 0xcc);
    add_load(b, PF_R, 0x2000, 0x402000, 0x100, 0x100, 0x11);
    add_load(b, PF_R | PF_W, 0x3000, 0x403000, 0x80, 0x3000, 0x22);
    add_ph(b, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16);
    assert(b->size == EX_SIZE);
}

/* make_exec plus 5: a PT_NOTE at 0x2040 (inside rodata) holding `note`. */
enum { EX_NOTE = 5 };
#define EX_NOTE_OFF 0x2040

static void make_exec_note(struct builder *b, const struct hv_image_note *note)
{
    make_exec(b);
    size_t n = put_hv_note(b, EX_NOTE_OFF, note);
    add_ph(b, PT_NOTE, PF_R, EX_NOTE_OFF, 0x400000 + EX_NOTE_OFF, n, n, 4);
}

/* Static-pie linked at 0: 0 headers + .rela.dyn at 0x300 (R), 1 text (RX),
 * 2 .dynamic at 0x2000 (16 slots) + data at 0x2100 + bss (RW), 3 PT_DYNAMIC,
 * 4 GNU_STACK. Three R_X86_64_RELATIVE relocations fill the words at 0x2100,
 * 0x2108, 0x2110 with 0x1000, 0x2100 and 0x300 moved by the bias. */
enum { PIE_HDR, PIE_TEXT, PIE_DATA, PIE_DYNAMIC, PIE_STACK };
#define PIE_RELA 0x300
#define PIE_DYN 0x2000
#define PIE_SIZE 0x2200

static void set_dyn(struct builder *b, unsigned slot, int64_t tag, uint64_t val)
{
    put64(b, PIE_DYN + slot * 16, (uint64_t)tag);
    put64(b, PIE_DYN + slot * 16 + 8, val);
}

static void set_rela(struct builder *b, unsigned i, uint64_t where, uint32_t type, uint32_t sym,
                     int64_t addend)
{
    put64(b, PIE_RELA + i * 24, where);
    put64(b, PIE_RELA + i * 24 + 8, (uint64_t)sym << 32 | type);
    put64(b, PIE_RELA + i * 24 + 16, (uint64_t)addend);
}

static void make_pie_at(struct builder *b, uint64_t link_base)
{
    b_init(b, ET_DYN, link_base + 0x1000);
    fill(b, 0, 0, 0x400);
    add_ph(b, PT_LOAD, PF_R, 0, link_base, 0x400, 0x400, 0x1000);
    add_load(b, PF_R | PF_X, 0x1000, link_base + 0x1000, 0x100, 0x100, 0xcc);
    add_load(b, PF_R | PF_W, 0x2000, link_base + 0x2000, 0x200, 0x1000, 0);
    add_ph(b, PT_DYNAMIC, PF_R | PF_W, PIE_DYN, link_base + PIE_DYN, 0x100, 0x100, 8);
    add_ph(b, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16);
    set_dyn(b, 0, DT_RELA, link_base + PIE_RELA);
    set_dyn(b, 1, DT_RELASZ, 3 * 24);
    set_dyn(b, 2, DT_RELAENT, 24);
    set_rela(b, 0, link_base + 0x2100, R_X86_64_RELATIVE, 0, (int64_t)(link_base + 0x1000));
    set_rela(b, 1, link_base + 0x2108, R_X86_64_RELATIVE, 0, (int64_t)(link_base + 0x2100));
    set_rela(b, 2, link_base + 0x2110, R_X86_64_RELATIVE, 0, (int64_t)(link_base + 0x300));
    assert(b->size == PIE_SIZE);
}

static void make_pie(struct builder *b) { make_pie_at(b, 0); }

/* ---- running the validator ---- */

static struct elf_image img;
static char why[256];
static unsigned char *file; /* the last file checked, exactly its size */
static size_t file_size;

static void save_corpus(int rc)
{
    static unsigned serial;
    const char *dir = getenv("HV_ELF_CORPUS_DIR");
    if (!dir)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s-%04u.elf", dir, rc == 0 ? "valid" : "rejected", serial++);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return;
    fwrite(file, 1, file_size, fp);
    fclose(fp);
}

static int check_bytes(const void *data, size_t size)
{
    free(file);
    file = malloc(size ? size : 1);
    assert(file);
    memcpy(file, data, size);
    file_size = size;
    memset(why, 'X', sizeof(why));
    int rc = elf_image_check(file, size, &img, why, sizeof(why));
    CHECK(memchr(why, 0, sizeof(why)) != NULL);
    save_corpus(rc);
    return rc;
}

static int run(struct builder *b)
{
    finish(b);
    return check_bytes(b->data, b->size);
}

#define EXPECT_REJECT(b, text)                                                  \
    do {                                                                        \
        int rc_ = run(b);                                                       \
        CHECK(rc_ < 0);                                                         \
        if (!strstr(why, (text)))                                               \
            printf("  why: \"%s\"\n  expected it to contain \"%s\"\n", why, (text)); \
        CHECK(strstr(why, (text)) != NULL);                                     \
    } while (0)

#define EXPECT_ACCEPT(b)                                                        \
    do {                                                                        \
        int rc_ = run(b);                                                       \
        if (rc_ != 0)                                                           \
            printf("  rejected: %s\n", why);                                    \
        CHECK(rc_ == 0);                                                        \
        CHECK_STR_EQ(why, "");                                                  \
    } while (0)

/* ---- relocation sink: records writes into a fake guest memory ---- */

#define MAX_WRITES 16
struct sink {
    unsigned count;
    uint64_t va[MAX_WRITES], value[MAX_WRITES];
    unsigned fail_at; /* 1-based write that fails; 0: none */
};

static int sink_write64(void *arg, uint64_t va, uint64_t value)
{
    struct sink *s = arg;
    if (s->fail_at && s->count + 1 == s->fail_at)
        return -1;
    assert(s->count < MAX_WRITES);
    s->va[s->count] = va;
    s->value[s->count] = value;
    s->count++;
    return 0;
}

/* ---- valid images ---- */

static void exec_valid(void)
{
    make_exec(&B);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.type, ET_EXEC);
    CHECK_EQ_U64(img.load_bias, 0);
    CHECK_EQ_U64(img.entry, EX_ENTRY);
    CHECK_EQ_U64(img.segment_count, 4);
    CHECK_EQ_U64(img.segments[0].vaddr, 0x400000);
    CHECK_EQ_U64(img.segments[0].flags, PF_R);
    CHECK_EQ_U64(img.segments[1].vaddr, 0x401000);
    CHECK_EQ_U64(img.segments[1].offset, 0x1000);
    CHECK_EQ_U64(img.segments[1].filesz, 0x200);
    CHECK_EQ_U64(img.segments[1].flags, PF_R | PF_X);
    CHECK_EQ_U64(img.segments[2].flags, PF_R);
    CHECK_EQ_U64(img.segments[3].vaddr, 0x403000);
    CHECK_EQ_U64(img.segments[3].memsz, 0x3000);
    CHECK_EQ_U64(img.segments[3].filesz, 0x80);
    CHECK_EQ_U64(img.segments[3].flags, PF_R | PF_W);
    CHECK_EQ_U64(img.lowest, 0x400000);
    CHECK_EQ_U64(img.highest, 0x406000);
    CHECK(!img.have_note);
    CHECK_EQ_U64(img.rela_count, 0);
    CHECK_EQ_U64(img.rela_offset, 0);
}

static void exec_relocate_does_nothing(void)
{
    make_exec(&B);
    EXPECT_ACCEPT(&B);
    struct sink s = {0};
    char w[64];
    CHECK(elf_image_relocate(&img, file, file_size, sink_write64, &s, w, sizeof(w)) == 0);
    CHECK_EQ_U64(s.count, 0);
    CHECK_STR_EQ(w, "");
}

static void exec_gnu_osabi_accepted(void)
{
    make_exec(&B);
    B.eh.e_ident[EI_OSABI] = ELFOSABI_GNU;
    EXPECT_ACCEPT(&B);
}

/* Segments listed out of order come out sorted; the extra bits of p_flags
 * are dropped; p_align 0 is fine; uninteresting program headers ignored. */
static void exec_unsorted_and_odd_headers(void)
{
    make_exec(&B);
    Elf64_Phdr text = B.ph[EX_TEXT];
    B.ph[EX_TEXT] = B.ph[EX_DATA];
    B.ph[EX_DATA] = text;
    B.ph[EX_RODATA].p_flags |= 0x0ff00000; /* PF_MASKOS */
    B.ph[EX_RODATA].p_align = 0;
    add_ph(&B, PT_NULL, 0, 0xdeadbeef, 0, 0xffffffffffff, 0, 3);
    add_ph(&B, PT_PHDR, PF_R, 64, 0x400040, 5 * 56, 5 * 56, 8);
    add_ph(&B, PT_GNU_RELRO, PF_R, 0x3000, 0x403000, 0x40, 0x40, 1);
    add_ph(&B, 0x6474e553 /* PT_GNU_PROPERTY */, PF_R, 0x99999999, 0, 0, 0, 8);
    add_ph(&B, 0x70000001, 0, ~0ull, ~0ull, ~0ull, ~0ull, 7);
    add_ph(&B, PT_LOAD, PF_R, ~0ull, ~0ull, 0, 0, 3); /* empty: ignored */
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.segment_count, 4);
    for (size_t i = 1; i < img.segment_count; i++)
        CHECK(img.segments[i - 1].vaddr < img.segments[i].vaddr);
    CHECK_EQ_U64(img.segments[1].flags, PF_R | PF_X);
    CHECK_EQ_U64(img.segments[2].flags, PF_R);
    CHECK_EQ_U64(img.segments[3].flags, PF_R | PF_W);
}

static void exec_without_gnu_stack(void)
{
    make_exec(&B);
    B.ph[EX_STACK].p_type = PT_NULL;
    EXPECT_ACCEPT(&B);
}

static void exec_image_area_edges(void)
{
    /* Lowest page exactly at HV_GUEST_IMAGE_MIN. */
    b_init(&B, ET_EXEC, 0x10000);
    add_load(&B, PF_R | PF_X, 0x1000, 0x10000, 0x10, 0x10, 0x90);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.lowest, 0x10000);
    /* Last page ending exactly at HV_GUEST_IMAGE_MAX. */
    add_load(&B, PF_R | PF_W, 0x2000, HV_GUEST_IMAGE_MAX - 0x1000, 0x10, 0x1000, 0);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.highest, HV_GUEST_IMAGE_MAX);
}

static void exec_memory_limit_exact(void)
{
    make_exec(&B);
    B.ph[EX_DATA].p_memsz = ELF_IMAGE_MAX_MEMORY - 3 * 0x1000;
    EXPECT_ACCEPT(&B);
}

static void exec_sixteen_segments(void)
{
    make_exec(&B);
    for (unsigned i = 0; i < 12; i++)
        add_ph(&B, PT_LOAD, PF_R, 0, 0x500000 + i * 0x1000, 0, 0x10, 0x1000);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.segment_count, 16);
    CHECK_EQ_U64(img.segments[15].vaddr, 0x50b000);
}

static void exec_sixty_four_phdrs(void)
{
    make_exec(&B);
    B.ph_write_off = B.eh.e_phoff = 0x4000;
    while (B.phnum < 64)
        add_ph(&B, PT_NULL, 0, 0, 0, 0, 0, 0);
    EXPECT_ACCEPT(&B);
}

/* An ET_EXEC may keep a dynamic table as long as it needs nothing from it. */
static void exec_with_harmless_dynamic(void)
{
    make_exec(&B);
    put64(&B, 0x3000, 0x6ffffffb); /* DT_FLAGS_1 */
    put64(&B, 0x3008, 0x08000000);
    put64(&B, 0x3010, DT_RELAENT);
    put64(&B, 0x3018, 24);
    put64(&B, 0x3020, DT_NULL);
    put64(&B, 0x3028, 0);
    add_ph(&B, PT_DYNAMIC, PF_R | PF_W, 0x3000, 0x403000, 0x30, 0x30, 8);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.rela_count, 0);
}

static void pie_valid_and_relocated(void)
{
    make_pie(&B);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.type, ET_DYN);
    CHECK_EQ_U64(img.load_bias, HV_GUEST_STATIC_PIE_BASE);
    CHECK_EQ_U64(img.entry, 0x401000);
    CHECK_EQ_U64(img.segment_count, 3);
    CHECK_EQ_U64(img.segments[0].vaddr, 0x400000);
    CHECK_EQ_U64(img.segments[1].vaddr, 0x401000);
    CHECK_EQ_U64(img.segments[1].offset, 0x1000);
    CHECK_EQ_U64(img.segments[2].vaddr, 0x402000);
    CHECK_EQ_U64(img.segments[2].memsz, 0x1000);
    CHECK_EQ_U64(img.lowest, 0x400000);
    CHECK_EQ_U64(img.highest, 0x403000);
    CHECK_EQ_U64(img.rela_offset, PIE_RELA);
    CHECK_EQ_U64(img.rela_count, 3);

    struct sink s = {0};
    char w[128] = "junk";
    CHECK(elf_image_relocate(&img, file, file_size, sink_write64, &s, w, sizeof(w)) == 0);
    CHECK_STR_EQ(w, "");
    CHECK_EQ_U64(s.count, 3);
    CHECK_EQ_U64(s.va[0], 0x402100);
    CHECK_EQ_U64(s.value[0], 0x401000);
    CHECK_EQ_U64(s.va[1], 0x402108);
    CHECK_EQ_U64(s.value[1], 0x402100);
    CHECK_EQ_U64(s.va[2], 0x402110);
    CHECK_EQ_U64(s.value[2], 0x400300);
}

/* Linked above the base: the bias is "negative" and everything still lands
 * at 0x400000. */
static void pie_linked_high(void)
{
    make_pie_at(&B, 0x10000000);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.load_bias, HV_GUEST_STATIC_PIE_BASE - 0x10000000);
    CHECK_EQ_U64(img.entry, 0x401000);
    CHECK_EQ_U64(img.segments[2].vaddr, 0x402000);
    struct sink s = {0};
    CHECK(elf_image_relocate(&img, file, file_size, sink_write64, &s, NULL, 0) == 0);
    CHECK_EQ_U64(s.count, 3);
    CHECK_EQ_U64(s.va[0], 0x402100);
    CHECK_EQ_U64(s.value[0], 0x401000);
    CHECK_EQ_U64(s.value[2], 0x400300);
}

/* The lowest segment need not start on a page: the bias is page-aligned. */
static void pie_unaligned_first_segment(void)
{
    make_pie(&B);
    B.ph[PIE_HDR].p_offset = B.ph[PIE_HDR].p_vaddr = 0x123;
    B.ph[PIE_HDR].p_filesz = B.ph[PIE_HDR].p_memsz = 0x100;
    set_dyn(&B, 0, DT_RELA, 0x1000); /* no relocations left: */
    set_dyn(&B, 1, DT_RELASZ, 0);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.load_bias, 0x400000);
    CHECK_EQ_U64(img.segments[0].vaddr, 0x400123);
    CHECK_EQ_U64(img.lowest, 0x400000);
    CHECK_EQ_U64(img.rela_count, 0);
}

static void pie_without_dynamic(void)
{
    make_pie(&B);
    B.ph[PIE_DYNAMIC].p_type = PT_NULL;
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.rela_count, 0);
    struct sink s = {0};
    CHECK(elf_image_relocate(&img, file, file_size, sink_write64, &s, NULL, 0) == 0);
    CHECK_EQ_U64(s.count, 0);
}

/* R_X86_64_NONE is skipped; DT_RELAENT may be absent; a target may be in
 * a read-only segment (RELRO) or in bss, and unaligned. */
static void pie_relocation_variants(void)
{
    make_pie(&B);
    set_rela(&B, 0, 0, R_X86_64_NONE, 0, 0);
    set_rela(&B, 1, 0x3f8, R_X86_64_RELATIVE, 0, 0x10); /* last 8 bytes of the R segment */
    set_rela(&B, 2, 0x2ff3, R_X86_64_RELATIVE, 0, -0x10); /* bss, unaligned */
    set_dyn(&B, 2, 0x6ffffff9 /* DT_RELACOUNT */, 2);
    EXPECT_ACCEPT(&B);
    struct sink s = {0};
    CHECK(elf_image_relocate(&img, file, file_size, sink_write64, &s, NULL, 0) == 0);
    CHECK_EQ_U64(s.count, 2);
    CHECK_EQ_U64(s.va[0], 0x4003f8);
    CHECK_EQ_U64(s.value[0], 0x400010);
    CHECK_EQ_U64(s.va[1], 0x402ff3);
    CHECK_EQ_U64(s.value[1], 0x3ffff0);
}

static void pie_span_edge(void)
{
    make_pie(&B);
    /* A sparse image whose top page ends exactly at HV_GUEST_IMAGE_MAX. */
    add_ph(&B, PT_LOAD, PF_R, 0, HV_GUEST_IMAGE_MAX - HV_GUEST_STATIC_PIE_BASE - 0x1000, 0, 8,
           0x1000);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.highest, HV_GUEST_IMAGE_MAX);
    B.ph[B.phnum - 1].p_vaddr += 0x1000;
    EXPECT_REJECT(&B, "program header 5: segment 0x7effffc00000-0x7effffc00008 ends "
                      "0x7effffc01000 bytes above the image's lowest page 0x0; loaded at 0x400000 "
                      "it would reach beyond the guest image area [0x10000, 0x7f0000000000)");
}

/* ---- the ELF header ---- */

static void header_empty_and_tiny(void)
{
    CHECK(check_bytes("", 0) < 0);
    CHECK_STR_EQ(why, "the file is empty");
    CHECK(check_bytes("\x7f" "EL", 3) < 0);
    CHECK_STR_EQ(why, "the file is only 3 bytes, shorter than an ELF header (64 bytes)");
    CHECK(check_bytes("MZ", 2) < 0);
    CHECK(strstr(why, "not an ELF file") != NULL);
}

static void header_not_elf(void)
{
    static const char text[] = "#!/bin/sh\necho hello, this is not an executable\n";
    CHECK(check_bytes(text, sizeof(text)) < 0);
    CHECK_STR_EQ(why, "not an ELF file: it does not start with the ELF magic bytes 7f 45 4c 46");
    make_exec(&B);
    B.eh.e_ident[3] = 'f';
    EXPECT_REJECT(&B, "not an ELF file");
}

static void header_truncated(void)
{
    make_exec(&B);
    finish(&B);
    CHECK(check_bytes(B.data, 40) < 0);
    CHECK_STR_EQ(why, "the file is only 40 bytes, shorter than an ELF header (64 bytes)");
    CHECK(check_bytes(B.data, 63) < 0);
    CHECK(strstr(why, "only 63 bytes") != NULL);
}

static void header_ident(void)
{
    make_exec(&B);
    B.eh.e_ident[EI_CLASS] = ELFCLASS32;
    EXPECT_REJECT(&B, "32-bit ELF file");
    /* A 32-bit file is named as such even when shorter than an ELF64 header. */
    finish(&B);
    CHECK(check_bytes(B.data, 52) < 0);
    CHECK(strstr(why, "32-bit") != NULL);
    B.eh.e_ident[EI_CLASS] = 7;
    EXPECT_REJECT(&B, "unknown ELF class 7");
    make_exec(&B);
    B.eh.e_ident[EI_DATA] = ELFDATA2MSB;
    EXPECT_REJECT(&B, "big-endian");
    B.eh.e_ident[EI_DATA] = 0;
    EXPECT_REJECT(&B, "unknown ELF data encoding 0");
    make_exec(&B);
    B.eh.e_ident[EI_VERSION] = 2;
    EXPECT_REJECT(&B, "ELF identification version 2");
    make_exec(&B);
    B.eh.e_ident[EI_OSABI] = 9;
    EXPECT_REJECT(&B, "built for the FreeBSD OS ABI (EI_OSABI 9)");
    B.eh.e_ident[EI_OSABI] = 77;
    EXPECT_REJECT(&B, "built for OS ABI 77");
}

static void header_type(void)
{
    make_exec(&B);
    B.eh.e_type = ET_REL;
    EXPECT_REJECT(&B, "an object file (ET_REL), not a linked executable");
    B.eh.e_type = ET_CORE;
    EXPECT_REJECT(&B, "a core dump (ET_CORE)");
    B.eh.e_type = ET_NONE;
    EXPECT_REJECT(&B, "ET_NONE");
    B.eh.e_type = 9;
    EXPECT_REJECT(&B, "unknown ELF file type 9");
    B.eh.e_type = 0xfe01;
    EXPECT_REJECT(&B, "OS- or processor-specific ELF file type 0xfe01");
}

static void header_machine(void)
{
    make_exec(&B);
    B.eh.e_machine = EM_386;
    EXPECT_REJECT(&B, "built for i386 (32-bit x86) (e_machine 3), not x86-64");
    B.eh.e_machine = EM_AARCH64;
    EXPECT_REJECT(&B, "built for AArch64");
    B.eh.e_machine = EM_RISCV;
    EXPECT_REJECT(&B, "built for RISC-V");
    B.eh.e_machine = 999;
    EXPECT_REJECT(&B, "built for machine type 999 (e_machine), not x86-64 (62)");
}

/* Files for other systems are named, so the user knows what they dropped. */
static void header_names_what_it_is(void)
{
    static const struct { unsigned v; const char *name; } abis[] = {
        {1, "HP-UX"}, {2, "NetBSD"}, {6, "Solaris"}, {7, "AIX"}, {8, "IRIX"},
        {9, "FreeBSD"}, {12, "OpenBSD"}, {255, "standalone (embedded)"},
    };
    static const struct { unsigned v; const char *name; } machines[] = {
        {2, "SPARC"}, {3, "i386 (32-bit x86)"}, {8, "MIPS"}, {20, "PowerPC"},
        {21, "64-bit PowerPC"}, {22, "IBM S/390"}, {40, "32-bit ARM"}, {43, "SPARC V9"},
        {50, "IA-64 (Itanium)"}, {183, "AArch64 (64-bit ARM)"}, {243, "RISC-V"},
        {258, "LoongArch"},
    };
    char expect[128];
    for (size_t i = 0; i < sizeof(abis) / sizeof(abis[0]); i++) {
        make_exec(&B);
        B.eh.e_ident[EI_OSABI] = (unsigned char)abis[i].v;
        snprintf(expect, sizeof(expect), "built for the %s OS ABI (EI_OSABI %u); hv accepts "
                 "System V (0) and GNU (3)", abis[i].name, abis[i].v);
        CHECK(run(&B) < 0);
        CHECK_STR_EQ(why, expect);
    }
    for (size_t i = 0; i < sizeof(machines) / sizeof(machines[0]); i++) {
        make_exec(&B);
        B.eh.e_machine = (uint16_t)machines[i].v;
        snprintf(expect, sizeof(expect), "built for %s (e_machine %u), not x86-64",
                 machines[i].name, machines[i].v);
        CHECK(run(&B) < 0);
        CHECK_STR_EQ(why, expect);
    }
}

static void header_version_and_sizes(void)
{
    make_exec(&B);
    B.eh.e_version = 0;
    EXPECT_REJECT(&B, "ELF version 0 (e_version)");
    make_exec(&B);
    B.eh.e_ehsize = 52;
    EXPECT_REJECT(&B, "says it is 52 bytes (e_ehsize)");
    make_exec(&B);
    B.eh.e_ehsize = 0x100; /* larger is odd but harmless */
    EXPECT_ACCEPT(&B);
    make_exec(&B);
    B.eh.e_phentsize = 32;
    EXPECT_REJECT(&B, "program header entries are 32 bytes (e_phentsize)");
}

static void header_phnum(void)
{
    make_exec(&B);
    B.eh.e_phnum = 0;
    EXPECT_REJECT(&B, "no program headers (e_phnum is 0)");
    B.eh.e_phnum = PN_XNUM;
    EXPECT_REJECT(&B, "extended program header numbering");
    make_exec(&B);
    B.ph_write_off = B.eh.e_phoff = 0x4000;
    while (B.phnum < 65)
        add_ph(&B, PT_NULL, 0, 0, 0, 0, 0, 0);
    EXPECT_REJECT(&B, "65 program headers; hv accepts at most 64");
}

static void header_phoff(void)
{
    make_exec(&B);
    B.eh.e_phoff = 0;
    EXPECT_REJECT(&B, "the program header table at 0x0 (e_phoff) overlaps the ELF header");
    B.eh.e_phoff = 0x3000;
    EXPECT_REJECT(&B, "the program header table 0x3000+0x118 (5 entries of 56 bytes) runs past "
                      "the end of the file (0x3080 bytes)");
    B.eh.e_phoff = UINT64_MAX - 0x10; /* offset + size wraps */
    EXPECT_REJECT(&B, "runs past the end of the file");
    /* Ending exactly at the end of the file is fine. */
    make_exec(&B);
    B.ph_write_off = B.eh.e_phoff = EX_SIZE;
    EXPECT_ACCEPT(&B);
    finish(&B);
    CHECK(check_bytes(B.data, B.size - 1) < 0);
    CHECK(strstr(why, "program header table") != NULL);
}

/* ---- program headers ---- */

static void phdr_interp(void)
{
    make_exec(&B);
    static const char ld[] = "/lib64/ld-linux-x86-64.so.2";
    put_bytes(&B, 0x2a0, ld, sizeof(ld));
    add_ph(&B, PT_INTERP, PF_R, 0x2a0, 0x4002a0, sizeof(ld), sizeof(ld), 1);
    EXPECT_REJECT(&B, "program header 5: PT_INTERP: needs the dynamic loader "
                      "/lib64/ld-linux-x86-64.so.2; hv runs only statically linked programs");
    /* Unterminated, unprintable or out of the file: still refused, unnamed. */
    B.ph[5].p_filesz = sizeof(ld) - 1;
    EXPECT_REJECT(&B, "PT_INTERP: needs a dynamic loader;");
    B.ph[5].p_filesz = sizeof(ld);
    B.data[0x2a3] = 0x07;
    EXPECT_REJECT(&B, "PT_INTERP: needs a dynamic loader;");
    B.ph[5].p_offset = ~0ull - 3;
    EXPECT_REJECT(&B, "PT_INTERP: needs a dynamic loader;");
    /* p_filesz claims more than the file has: the path still ends inside. */
    make_exec(&B);
    put_bytes(&B, EX_SIZE, ld, sizeof(ld));
    add_ph(&B, PT_INTERP, PF_R, EX_SIZE, 0, 0x1000, 0x1000, 1);
    EXPECT_REJECT(&B, "needs the dynamic loader /lib64/ld-linux-x86-64.so.2;");
    B.size--; /* now its NUL is cut off by the end of the file */
    EXPECT_REJECT(&B, "PT_INTERP: needs a dynamic loader;");
}

static void phdr_tls(void)
{
    make_exec(&B);
    add_ph(&B, PT_TLS, PF_R, 0x3000, 0x403000, 0x10, 0x20, 8);
    EXPECT_REJECT(&B, "program header 5: PT_TLS: the program uses thread-local storage");
}

static void phdr_exec_stack(void)
{
    make_exec(&B);
    B.ph[EX_STACK].p_flags = PF_R | PF_W | PF_X;
    EXPECT_REJECT(&B, "program header 4: PT_GNU_STACK asks for an executable stack");
}

static void phdr_two_dynamic(void)
{
    make_pie(&B);
    add_ph(&B, PT_DYNAMIC, PF_R, PIE_DYN, PIE_DYN, 0x100, 0x100, 8);
    EXPECT_REJECT(&B, "program headers 3 and 5 are both PT_DYNAMIC");
}

/* ---- loadable segments ---- */

static void load_file_range(void)
{
    make_exec(&B);
    B.ph[EX_DATA].p_offset = 0x1000;
    B.ph[EX_DATA].p_filesz = 0x5000;
    B.ph[EX_DATA].p_memsz = 0x6000;
    finish(&B);
    CHECK(check_bytes(B.data, 0x3000) < 0);
    CHECK_STR_EQ(why, "program header 3: file range 0x1000+0x5000 runs past the end of the "
                      "file (0x3000 bytes)");
    /* One byte short. */
    make_exec(&B);
    finish(&B);
    CHECK(check_bytes(B.data, EX_SIZE - 1) < 0);
    CHECK(strstr(why, "program header 3: file range 0x3000+0x80 runs past") != NULL);
    /* Offset + size wraps. */
    make_exec(&B);
    B.ph[EX_RODATA].p_offset = UINT64_MAX - 0xfff;
    EXPECT_REJECT(&B, "program header 2: file range 0xfffffffffffff000+0x100 runs past");
}

static void load_filesz_above_memsz(void)
{
    make_exec(&B);
    B.ph[EX_TEXT].p_memsz = 0x100;
    EXPECT_REJECT(&B, "program header 1: file size 0x200 is larger than its memory size 0x100");
    /* Also for a segment of memory size 0, which is otherwise ignored. */
    make_exec(&B);
    add_ph(&B, PT_LOAD, PF_R, 0, 0x600000, 1, 0, 0x1000);
    EXPECT_REJECT(&B, "program header 5: file size 0x1 is larger than its memory size 0x0");
}

static void load_wraps(void)
{
    make_exec(&B);
    add_ph(&B, PT_LOAD, PF_R, 0, 0xfffffffffffff000, 0, 0x1000, 0x1000);
    EXPECT_REJECT(&B, "program header 5: memory range 0xfffffffffffff000+0x1000 wraps around");
    /* Would wrap only when rounded up to a page. */
    B.ph[5].p_memsz = 0xff0;
    EXPECT_REJECT(&B, "wraps around the end of the address space");
    B.ph[5].p_vaddr = 0x1000;
    B.ph[5].p_memsz = UINT64_MAX;
    EXPECT_REJECT(&B, "wraps around");
}

static void load_permissions(void)
{
    make_exec(&B);
    B.ph[EX_RODATA].p_flags = 0;
    EXPECT_REJECT(&B, "program header 2: segment 0x402000-0x402100 allows no access");
    B.ph[EX_RODATA].p_flags = 0x00f00000; /* only OS bits */
    EXPECT_REJECT(&B, "allows no access");
    make_exec(&B);
    B.ph[EX_DATA].p_flags = PF_R | PF_W | PF_X;
    EXPECT_REJECT(&B, "program header 3: segment 0x403000-0x406000 is both writable and "
                      "executable");
    B.ph[EX_DATA].p_flags = PF_W | PF_X;
    EXPECT_REJECT(&B, "both writable and executable");
}

static void load_alignment(void)
{
    make_exec(&B);
    B.ph[EX_TEXT].p_align = 0x1800;
    EXPECT_REJECT(&B, "program header 1: alignment 0x1800 (p_align) is not a power of two");
    B.ph[EX_TEXT].p_align = 3;
    EXPECT_REJECT(&B, "is not a power of two");
    B.ph[EX_TEXT].p_align = 1;
    EXPECT_ACCEPT(&B);
    make_exec(&B);
    B.ph[EX_TEXT].p_vaddr = 0x401010; /* offset 0x1000 */
    B.ph[EX_TEXT].p_align = 0x10;
    EXPECT_ACCEPT(&B);
    B.ph[EX_TEXT].p_align = 0x1000;
    EXPECT_REJECT(&B, "program header 1: address 0x401010 and file offset 0x1000 are not "
                      "congruent modulo the alignment 0x1000");
}

static void load_overlap_and_shared_page(void)
{
    make_exec(&B);
    B.ph[EX_RODATA].p_vaddr = 0x401100;
    B.ph[EX_RODATA].p_offset = 0x2100;
    EXPECT_REJECT(&B, "program headers 1 and 2 overlap: segments 0x401000-0x401200 and "
                      "0x401100-0x401200");
    B.ph[EX_RODATA].p_vaddr = 0x401200;
    B.ph[EX_RODATA].p_offset = 0x2200;
    EXPECT_REJECT(&B, "program headers 1 and 2 share the page 0x401000");
    /* Listed in the other order: still found, still named by file index. */
    B.ph[EX_RODATA].p_vaddr = 0x400800; /* inside headers' page */
    B.ph[EX_RODATA].p_offset = 0x2800;
    EXPECT_REJECT(&B, "program headers 0 and 2 share the page 0x400000");
    /* Touching at a page boundary is fine. */
    make_exec(&B);
    B.ph[EX_TEXT].p_memsz = B.ph[EX_TEXT].p_filesz = 0x1000;
    fill(&B, 0x1000, 0xcc, 0x1000);
    EXPECT_ACCEPT(&B);
    /* By a single byte. */
    make_exec(&B);
    B.ph[EX_RODATA].p_vaddr = 0x4011ff;
    B.ph[EX_RODATA].p_offset = 0x21ff;
    EXPECT_REJECT(&B, "program headers 1 and 2 overlap: segments 0x401000-0x401200 and "
                      "0x4011ff-0x4012ff");
    /* Same start. */
    make_exec(&B);
    B.ph[EX_RODATA].p_vaddr = 0x401000;
    B.ph[EX_RODATA].p_offset = 0x2000;
    EXPECT_REJECT(&B, "overlap");
}

static void load_image_area(void)
{
    b_init(&B, ET_EXEC, 0xf000);
    add_load(&B, PF_R | PF_X, 0x1000, 0xf000, 0x10, 0x10, 0x90);
    EXPECT_REJECT(&B, "program header 0: segment 0xf000-0xf010 lies below 0x10000, where the "
                      "guest image area [0x10000, 0x7f0000000000) begins");
    B.eh.e_entry = B.ph[0].p_vaddr = 0x10fff; /* same page as 0x10000 is fine, */
    B.ph[0].p_offset = 0x1fff;
    fill(&B, 0x1fff, 0x90, 0x10);
    EXPECT_ACCEPT(&B);
    B.eh.e_entry = B.ph[0].p_vaddr = 0x1000; /* page 0 is not */
    B.ph[0].p_offset = 0x1000;
    EXPECT_REJECT(&B, "lies below 0x10000");
    make_exec(&B);
    add_ph(&B, PT_LOAD, PF_R | PF_W, 0, HV_GUEST_IMAGE_MAX - 0x1000, 0, 0x1001, 0x1000);
    EXPECT_REJECT(&B, "program header 5: segment 0x7efffffff000-0x7f0000000001 reaches beyond "
                      "0x7f0000000000");
    B.ph[5].p_vaddr = 0x800000000000; /* non-canonical */
    EXPECT_REJECT(&B, "reaches beyond 0x7f0000000000");
    B.ph[5].p_vaddr = 0xffffffff80000000; /* kernel addresses */
    EXPECT_REJECT(&B, "reaches beyond 0x7f0000000000");
}

static void load_none(void)
{
    make_exec(&B);
    for (unsigned i = 0; i < 4; i++)
        B.ph[i].p_type = PT_NOTE + 100;
    EXPECT_REJECT(&B, "no loadable segment");
    make_exec(&B);
    for (unsigned i = 0; i < 4; i++)
        B.ph[i].p_memsz = B.ph[i].p_filesz = 0;
    EXPECT_REJECT(&B, "no loadable segment (no PT_LOAD with a memory size)");
}

static void load_too_many(void)
{
    make_exec(&B);
    for (unsigned i = 0; i < 13; i++)
        add_ph(&B, PT_LOAD, PF_R, 0, 0x500000 + i * 0x1000, 0, 0x10, 0x1000);
    EXPECT_REJECT(&B, "more than 16 loadable segments (program header 17 is one too many)");
}

static void load_memory_limit(void)
{
    make_exec(&B);
    B.ph[EX_DATA].p_memsz = ELF_IMAGE_MAX_MEMORY - 3 * 0x1000 + 1;
    EXPECT_REJECT(&B, "the loadable segments need 0x40001000 bytes (1025 MiB) of memory; hv "
                      "allows at most 1 GiB per image");
    /* Many big ones, so a sum that wrapped would go unnoticed. */
    make_exec(&B);
    for (unsigned i = 0; i < 12; i++)
        add_ph(&B, PT_LOAD, PF_R, 0, 0x10000000000ull * (i + 1), 0, 0xfffffff000ull, 0x1000);
    EXPECT_REJECT(&B, "hv allows at most 1 GiB per image");
}

/* ---- entry point ---- */

static void entry_checks(void)
{
    make_exec(&B);
    B.eh.e_entry = 0;
    EXPECT_REJECT(&B, "no entry point (e_entry is 0)");
    B.eh.e_entry = 0x700000;
    EXPECT_REJECT(&B, "the entry point 0x700000 is not inside any loadable segment");
    B.eh.e_entry = 0x402010;
    EXPECT_REJECT(&B, "the entry point 0x402010 is in program header 2, which is not executable");
    B.eh.e_entry = 0x401200; /* one past the text */
    EXPECT_REJECT(&B, "not inside any loadable segment");
    B.eh.e_entry = 0x4011ff; /* its last byte */
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.entry, 0x4011ff);
    /* Executable, but the entry is in the zero-filled tail. */
    make_exec(&B);
    B.ph[EX_TEXT].p_memsz = 0x800;
    B.eh.e_entry = 0x401300;
    EXPECT_REJECT(&B, "the entry point 0x401300 is in the zero-filled part of program header 1, "
                      "past its 0x200 bytes from the file");
    B.eh.e_entry = 0x401200; /* the first byte not from the file */
    EXPECT_REJECT(&B, "the entry point 0x401200 is in the zero-filled part");
    B.eh.e_entry = 0x4011ff;
    EXPECT_ACCEPT(&B);
    make_pie(&B);
    B.eh.e_entry = 0;
    EXPECT_REJECT(&B, "no entry point");
}

/* ---- dynamic table ---- */

static void dyn_needed(void)
{
    make_pie(&B);
    static const char str[] = "\0libc.so.6\0libm.so.6";
    put_bytes(&B, 0x380, str, sizeof(str));
    set_dyn(&B, 3, DT_NEEDED, 1);
    set_dyn(&B, 4, DT_NEEDED, 11);
    set_dyn(&B, 5, DT_STRTAB, 0x380);
    set_dyn(&B, 6, DT_STRSZ, sizeof(str));
    EXPECT_REJECT(&B, "needs the shared library libc.so.6 (DT_NEEDED); hv runs only statically "
                      "linked programs");
    set_dyn(&B, 3, DT_NEEDED, sizeof(str)); /* past DT_STRSZ */
    EXPECT_REJECT(&B, "needs shared libraries (DT_NEEDED)");
    set_dyn(&B, 3, DT_NEEDED, UINT64_MAX); /* strtab + offset wraps */
    EXPECT_REJECT(&B, "needs shared libraries (DT_NEEDED)");
    set_dyn(&B, 3, DT_NEEDED, 1);
    set_dyn(&B, 5, DT_STRTAB, 0x2800); /* in bss: not in the file */
    EXPECT_REJECT(&B, "needs shared libraries (DT_NEEDED)");
    set_dyn(&B, 5, 0x6ffffef5 /* DT_GNU_HASH */, 0); /* no DT_STRTAB at all */
    EXPECT_REJECT(&B, "needs shared libraries (DT_NEEDED)");
    /* An ET_EXEC with DT_NEEDED is just as dynamic. */
    make_exec(&B);
    put64(&B, 0x3000, DT_NEEDED);
    put64(&B, 0x3008, 1);
    put64(&B, 0x3010, DT_NULL);
    put64(&B, 0x3018, 0);
    add_ph(&B, PT_DYNAMIC, PF_R | PF_W, 0x3000, 0x403000, 0x20, 0x20, 8);
    EXPECT_REJECT(&B, "needs shared libraries (DT_NEEDED)");
}

static void dyn_rel_and_plt(void)
{
    make_pie(&B);
    set_dyn(&B, 3, DT_REL, 0x300);
    EXPECT_REJECT(&B, "uses REL-format relocations");
    set_dyn(&B, 3, DT_RELSZ, 16);
    EXPECT_REJECT(&B, "uses REL-format relocations");
    set_dyn(&B, 3, DT_RELSZ, 0);
    EXPECT_ACCEPT(&B);
    set_dyn(&B, 3, DT_JMPREL, 0x300);
    EXPECT_REJECT(&B, "has PLT relocations (DT_JMPREL, DT_PLTRELSZ)");
    set_dyn(&B, 3, DT_PLTRELSZ, 24);
    EXPECT_REJECT(&B, "has PLT relocations");
    set_dyn(&B, 3, DT_PLTRELSZ, 0);
    EXPECT_ACCEPT(&B);
}

static void dyn_rela_fields(void)
{
    make_pie(&B);
    set_dyn(&B, 2, DT_RELAENT, 16);
    EXPECT_REJECT(&B, "DT_RELAENT is 16; Elf64_Rela entries are 24 bytes");
    make_pie(&B);
    set_dyn(&B, 1, DT_RELASZ, 3 * 24 + 8);
    EXPECT_REJECT(&B, "DT_RELASZ 0x50 is not a whole number of 24-byte Elf64_Rela entries");
    make_pie(&B);
    set_dyn(&B, 1, DT_NULL, 0);
    EXPECT_REJECT(&B, "has DT_RELA but no DT_RELASZ");
    make_pie(&B);
    set_dyn(&B, 0, 0x6ffffff9 /* DT_RELACOUNT */, 3);
    EXPECT_REJECT(&B, "has DT_RELASZ but no DT_RELA");
    make_pie(&B);
    set_dyn(&B, 3, DT_RELA, 0x300);
    EXPECT_REJECT(&B, "the dynamic table (program header 3) has two DT_RELA entries");
    make_pie(&B);
    set_dyn(&B, 3, DT_RELAENT, 24);
    EXPECT_REJECT(&B, "two DT_RELAENT entries");
    make_pie(&B);
    set_dyn(&B, 3, DT_STRTAB, 0);
    set_dyn(&B, 4, DT_STRTAB, 0);
    EXPECT_REJECT(&B, "two DT_STRTAB entries");
}

static void dyn_rela_location(void)
{
    make_pie(&B);
    set_dyn(&B, 0, DT_RELA, 0x2800); /* bss */
    EXPECT_REJECT(&B, "the relocation table 0x2800+0x48 (DT_RELA, DT_RELASZ) is not inside the "
                      "file-backed part of one loadable segment");
    set_dyn(&B, 0, DT_RELA, 0x3c0); /* straddles the end of the R segment's file bytes */
    EXPECT_REJECT(&B, "the relocation table 0x3c0+0x48");
    set_dyn(&B, 0, DT_RELA, 0x9000); /* nowhere */
    EXPECT_REJECT(&B, "is not inside the file-backed part");
    set_dyn(&B, 0, DT_RELA, UINT64_MAX - 8);
    EXPECT_REJECT(&B, "is not inside the file-backed part");
    set_dyn(&B, 0, DT_RELA, 0x3b8); /* exactly up to the end: fine */
    set_rela(&B, 0, 0, R_X86_64_NONE, 0, 0);
    set_rela(&B, 1, 0, R_X86_64_NONE, 0, 0);
    set_rela(&B, 2, 0, R_X86_64_NONE, 0, 0);
    EXPECT_ACCEPT(&B);
    CHECK_EQ_U64(img.rela_offset, 0x3b8);
}

static void dyn_table_bounds(void)
{
    make_pie(&B);
    B.ph[PIE_DYNAMIC].p_filesz = 0x30; /* three entries, no DT_NULL among them */
    EXPECT_REJECT(&B, "the dynamic table (program header 3) has no DT_NULL terminator within its "
                      "0x30 bytes");
    B.ph[PIE_DYNAMIC].p_filesz = 0x3f; /* a partial entry does not count */
    EXPECT_REJECT(&B, "no DT_NULL terminator");
    B.ph[PIE_DYNAMIC].p_filesz = 0x40;
    EXPECT_ACCEPT(&B);
    B.ph[PIE_DYNAMIC].p_filesz = 0x300;
    EXPECT_REJECT(&B, "program header 3 (PT_DYNAMIC): file range 0x2000+0x300 runs past the end "
                      "of the file (0x2200 bytes)");
    B.ph[PIE_DYNAMIC].p_offset = UINT64_MAX;
    B.ph[PIE_DYNAMIC].p_filesz = 2;
    EXPECT_REJECT(&B, "(PT_DYNAMIC): file range");
}

static void dyn_exec_with_relocations(void)
{
    make_exec(&B);
    put64(&B, 0x3000, DT_RELA);
    put64(&B, 0x3008, 0x402000);
    put64(&B, 0x3010, DT_RELASZ);
    put64(&B, 0x3018, 24);
    put64(&B, 0x3020, DT_NULL);
    put64(&B, 0x3028, 0);
    add_ph(&B, PT_DYNAMIC, PF_R | PF_W, 0x3000, 0x403000, 0x30, 0x30, 8);
    EXPECT_REJECT(&B, "a fixed-address executable (ET_EXEC) with dynamic relocations (DT_RELA)");
}

/* ---- relocations ---- */

static void reloc_types(void)
{
    make_pie(&B);
    set_rela(&B, 1, 0x2108, R_X86_64_64, 0, 0);
    EXPECT_REJECT(&B, "relocation 1 has type R_X86_64_64 (1); hv applies only R_X86_64_RELATIVE");
    set_rela(&B, 1, 0x2108, R_X86_64_IRELATIVE, 0, 0x1000);
    EXPECT_REJECT(&B, "relocation 1 has type R_X86_64_IRELATIVE (37)");
    set_rela(&B, 1, 0x2108, R_X86_64_JUMP_SLOT, 3, 0);
    EXPECT_REJECT(&B, "R_X86_64_JUMP_SLOT");
    set_rela(&B, 1, 0x2108, R_X86_64_TPOFF64, 0, 0);
    EXPECT_REJECT(&B, "R_X86_64_TPOFF64");
    set_rela(&B, 2, 0x2108, 99, 0, 0);
    set_rela(&B, 1, 0x2108, R_X86_64_RELATIVE, 0, 0);
    EXPECT_REJECT(&B, "relocation 2 has unknown type 99");
    set_rela(&B, 2, 0x2108, R_X86_64_RELATIVE, 5, 0);
    EXPECT_REJECT(&B, "relocation 2 (R_X86_64_RELATIVE) names symbol 5; it must name none");
}

static void reloc_type_names(void)
{
    static const struct { uint32_t type; const char *name; } types[] = {
        {R_X86_64_64, "R_X86_64_64"}, {R_X86_64_PC32, "R_X86_64_PC32"},
        {R_X86_64_COPY, "R_X86_64_COPY"}, {R_X86_64_GLOB_DAT, "R_X86_64_GLOB_DAT"},
        {R_X86_64_JUMP_SLOT, "R_X86_64_JUMP_SLOT"}, {R_X86_64_DTPMOD64, "R_X86_64_DTPMOD64"},
        {R_X86_64_DTPOFF64, "R_X86_64_DTPOFF64"}, {R_X86_64_TPOFF64, "R_X86_64_TPOFF64"},
        {R_X86_64_IRELATIVE, "R_X86_64_IRELATIVE"},
    };
    char expect[128];
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        make_pie(&B);
        set_rela(&B, 2, 0x2110, types[i].type, 0, 0);
        snprintf(expect, sizeof(expect), "relocation 2 has type %s (%u); hv applies only "
                 "R_X86_64_RELATIVE", types[i].name, types[i].type);
        CHECK(run(&B) < 0);
        CHECK_STR_EQ(why, expect);
    }
}

static void reloc_targets(void)
{
    make_pie(&B);
    set_rela(&B, 0, 0x800, R_X86_64_RELATIVE, 0, 0); /* between segments */
    EXPECT_REJECT(&B, "relocation 0 targets 0x800, whose 8 bytes are not inside one loadable "
                      "segment");
    set_rela(&B, 0, 0x2ff9, R_X86_64_RELATIVE, 0, 0); /* last byte past the segment */
    EXPECT_REJECT(&B, "relocation 0 targets 0x2ff9");
    set_rela(&B, 0, 0x3fc, R_X86_64_RELATIVE, 0, 0); /* straddles R and the gap */
    EXPECT_REJECT(&B, "targets 0x3fc");
    set_rela(&B, 0, UINT64_MAX - 3, R_X86_64_RELATIVE, 0, 0); /* wraps with the bias */
    EXPECT_REJECT(&B, "whose 8 bytes are not inside");
    set_rela(&B, 0, (uint64_t)-HV_GUEST_STATIC_PIE_BASE + 0x2100, R_X86_64_RELATIVE, 0, 0);
    EXPECT_REJECT(&B, "whose 8 bytes are not inside");
}

static void reloc_write_failure(void)
{
    make_pie(&B);
    EXPECT_ACCEPT(&B);
    struct sink s = {.fail_at = 2};
    char w[128];
    CHECK(elf_image_relocate(&img, file, file_size, sink_write64, &s, w, sizeof(w)) < 0);
    CHECK_EQ_U64(s.count, 1);
    CHECK_STR_EQ(w, "relocation 1: writing 0x402100 to guest address 0x402108 failed");
}

/* elf_image_relocate trusts nothing in the image it is given either. */
static void reloc_bad_image_description(void)
{
    make_pie(&B);
    EXPECT_ACCEPT(&B);
    struct elf_image bad = img;
    struct sink s = {0};
    char w[128];
    bad.rela_offset = file_size - 24 * 3 + 1;
    CHECK(elf_image_relocate(&bad, file, file_size, sink_write64, &s, w, sizeof(w)) < 0);
    CHECK(strstr(w, "runs past the end of the file (0x2200 bytes)") != NULL);
    bad.rela_count = UINT64_MAX / 8;
    bad.rela_offset = 0;
    CHECK(elf_image_relocate(&bad, file, file_size, sink_write64, &s, w, sizeof(w)) < 0);
    bad = img;
    bad.segment_count = 1; /* the data segment is gone */
    CHECK(elf_image_relocate(&bad, file, file_size, sink_write64, &s, w, sizeof(w)) < 0);
    CHECK(strstr(w, "relocation 0 targets 0x2100") != NULL);
    CHECK(elf_image_relocate(NULL, file, file_size, sink_write64, &s, w, sizeof(w)) < 0);
    CHECK(elf_image_relocate(&img, file, file_size, NULL, &s, w, sizeof(w)) < 0);
    CHECK_EQ_U64(s.count, 0);
}

/* ---- notes ---- */

static void note_valid(void)
{
    struct hv_image_note n = hv_note("hello-1.0_x");
    make_exec_note(&B, &n);
    EXPECT_ACCEPT(&B);
    CHECK(img.have_note);
    CHECK_EQ_U64(img.note.abi_version, HV_ABI_VERSION);
    CHECK_EQ_U64(img.note.vcpus, 2);
    CHECK_EQ_U64(img.note.memory_bytes, 16u << 20);
    CHECK_EQ_U64(img.note.stack_bytes, 0x10000);
    CHECK_STR_EQ(img.note.name, "hello-1.0_x");
    /* The empty name means the default. */
    n = hv_note("");
    make_exec_note(&B, &n);
    EXPECT_ACCEPT(&B);
    CHECK(img.have_note);
    CHECK_STR_EQ(img.note.name, "");
    /* 31 characters is the longest. */
    n = hv_note("abcdefghijklmnopqrstuvwxyz01234");
    make_exec_note(&B, &n);
    EXPECT_ACCEPT(&B);
    CHECK_STR_EQ(img.note.name, "abcdefghijklmnopqrstuvwxyz01234");
    /* A static-pie with the note. */
    make_pie(&B);
    n = hv_note("pie");
    size_t len = put_hv_note(&B, 0x1080, &n);
    add_ph(&B, PT_NOTE, PF_R, 0x1080, 0x1080, len, len, 4);
    EXPECT_ACCEPT(&B);
    CHECK(img.have_note);
    CHECK_STR_EQ(img.note.name, "pie");
}

/* What a real toolchain puts around it: a GNU build-id note in the same
 * segment, a GNU property note in a segment aligned to 8. */
static void note_among_others(void)
{
    struct hv_image_note n = hv_note("guest");
    static const unsigned char build_id[20] = {1, 2, 3, 4, 5};
    make_exec(&B);
    uint64_t off = 0x2040;
    off += put_note(&B, off, "GNU", 4, 3 /* NT_GNU_BUILD_ID */, build_id, 20, 4);
    off += put_note(&B, off, "hv", 3, 3 /* another hv type: ignored */, build_id, 7, 4);
    off += put_note(&B, off, "hv", 2, HV_NOTE_GUEST, build_id, 20, 4); /* no NUL: not ours */
    off += put_note(&B, off, "hvx", 4, HV_NOTE_GUEST, build_id, 20, 4);
    off += put_note(&B, off, "", 0, 0, "", 0, 4);
    off += put_hv_note(&B, off, &n);
    add_ph(&B, PT_NOTE, PF_R, 0x2040, 0x402040, off - 0x2040, off - 0x2040, 4);
    EXPECT_ACCEPT(&B);
    CHECK(img.have_note);
    CHECK_STR_EQ(img.note.name, "guest");

    /* 8-aligned: a 4-byte property descriptor is padded to 8 before the
     * next note; read with 4-byte padding the hv note would be missed. */
    make_exec(&B);
    static const uint32_t prop[1] = {0xc0000002};
    off = 0x2040;
    off += put_note(&B, off, "GNU", 4, 5 /* NT_GNU_PROPERTY_TYPE_0 */, prop, 4, 8);
    CHECK_EQ_U64(off, 0x2040 + 24);
    off += put_note(&B, off, "hv", 3, HV_NOTE_GUEST, &n, sizeof(n), 8);
    add_ph(&B, PT_NOTE, PF_R, 0x2040, 0x402040, off - 0x2040, off - 0x2040, 8);
    EXPECT_ACCEPT(&B);
    CHECK(img.have_note);
    CHECK_STR_EQ(img.note.name, "guest");
}

/* The restart-policy note (HV_NOTE_POLICY): taken as the file has it
 * beside the guest note (its values are judged with hv.cfg by
 * guest_policy_apply_note, tests/unit/test_restart_policy.c); one at most,
 * of its exact size. */
static void policy_note(void)
{
    struct hv_image_note n = hv_note("guest");
    struct hv_image_policy pol = {HV_NOTE_ACTION_STOP, 3 /* halt: judged later */, 5, 60};
    make_exec(&B);
    uint64_t off = 0x2040;
    off += put_note(&B, off, "hv", 3, HV_NOTE_POLICY, &pol, sizeof(pol), 4);
    off += put_hv_note(&B, off, &n);
    add_ph(&B, PT_NOTE, PF_R, 0x2040, 0x402040, off - 0x2040, off - 0x2040, 4);
    EXPECT_ACCEPT(&B);
    CHECK(img.have_note && img.have_policy_note);
    CHECK_EQ_U64(img.policy_note.on_exit, HV_NOTE_ACTION_STOP);
    CHECK_EQ_U64(img.policy_note.on_fault, 3);
    CHECK_EQ_U64(img.policy_note.max_restarts, 5);
    CHECK_EQ_U64(img.policy_note.window_s, 60);

    make_exec(&B);
    EXPECT_ACCEPT(&B);
    CHECK(!img.have_policy_note);

    make_exec(&B);
    size_t len = put_note(&B, EX_NOTE_OFF, "hv", 3, HV_NOTE_POLICY, &pol, 12, 4);
    add_ph(&B, PT_NOTE, PF_R, EX_NOTE_OFF, 0x402040, len, len, 4);
    EXPECT_REJECT(&B, "a second or malformed hv policy note (program header 5)");

    make_exec(&B);
    off = 0x2040;
    off += put_note(&B, off, "hv", 3, HV_NOTE_POLICY, &pol, sizeof(pol), 4);
    off += put_note(&B, off, "hv", 3, HV_NOTE_POLICY, &pol, sizeof(pol), 4);
    add_ph(&B, PT_NOTE, PF_R, 0x2040, 0x402040, off - 0x2040, off - 0x2040, 4);
    EXPECT_REJECT(&B, "a second or malformed hv policy note (program header 5)");
}

static void note_bad_descriptor(void)
{
    struct hv_image_note n = hv_note("x");
    make_exec(&B);
    size_t len = put_note(&B, EX_NOTE_OFF, "hv", 3, HV_NOTE_GUEST, &n, 48, 4);
    add_ph(&B, PT_NOTE, PF_R, EX_NOTE_OFF, 0x402040, len, len, 4);
    EXPECT_REJECT(&B, "the hv guest note (program header 5) has a 48-byte descriptor; struct "
                      "hv_image_note is 56 bytes");
}

static void note_abi_version(void)
{
    struct hv_image_note n = hv_note("x");
    n.abi_version = 1; /* the version before memory calls returned page counts */
    make_exec_note(&B, &n);
    EXPECT_REJECT(&B, "built for hv ABI version 1; this hv speaks version 2");
    CHECK_STR_EQ(why, "built for hv ABI version 1; this hv speaks version 2");
    n.abi_version = 0;
    make_exec_note(&B, &n);
    EXPECT_REJECT(&B, "built for hv ABI version 0;");
}

static void note_bad_name(void)
{
    struct hv_image_note n = hv_note("");
    memset(n.name, 'a', sizeof(n.name));
    make_exec_note(&B, &n);
    EXPECT_REJECT(&B, "the hv guest note's name is not NUL-terminated within its 32 bytes");
    n = hv_note("bad/name");
    make_exec_note(&B, &n);
    EXPECT_REJECT(&B, "the hv guest note's name has the byte 0x2f at position 3; a name may use "
                      "only A-Z a-z 0-9 . _ -");
    n = hv_note("sp ace");
    make_exec_note(&B, &n);
    EXPECT_REJECT(&B, "the byte 0x20 at position 2");
    n = hv_note("x");
    n.name[0] = (char)0xc3;
    make_exec_note(&B, &n);
    EXPECT_REJECT(&B, "the byte 0xc3 at position 0");
    /* Bytes after the terminator are not part of the name. */
    n = hv_note("ok");
    n.name[5] = '/';
    make_exec_note(&B, &n);
    EXPECT_ACCEPT(&B);
    CHECK_STR_EQ(img.note.name, "ok");
}

static void note_duplicates(void)
{
    struct hv_image_note n = hv_note("one");
    make_exec(&B);
    size_t len = put_hv_note(&B, EX_NOTE_OFF, &n);
    len += put_hv_note(&B, EX_NOTE_OFF + len, &n);
    add_ph(&B, PT_NOTE, PF_R, EX_NOTE_OFF, 0x402040, len, len, 4);
    EXPECT_REJECT(&B, "two hv guest notes (program headers 5 and 5); an image has at most one");
    make_exec_note(&B, &n);
    add_ph(&B, PT_NOTE, PF_R, EX_NOTE_OFF, 0x402040, B.ph[EX_NOTE].p_filesz,
           B.ph[EX_NOTE].p_filesz, 4);
    EXPECT_REJECT(&B, "two hv guest notes (program headers 5 and 6)");
}

static void note_malformed(void)
{
    struct hv_image_note n = hv_note("x");
    make_exec_note(&B, &n);
    B.ph[EX_NOTE].p_filesz += 5; /* stray bytes after the note */
    EXPECT_REJECT(&B, "program header 5 (notes): note 1 at file offset 0x2088: its 12-byte "
                      "header runs past the end of the notes");
    make_exec_note(&B, &n);
    B.ph[EX_NOTE].p_filesz = 8;
    EXPECT_REJECT(&B, "note 0 at file offset 0x2040: its 12-byte header runs past");
    make_exec_note(&B, &n);
    put32(&B, EX_NOTE_OFF, 0xffffffff);
    EXPECT_REJECT(&B, "program header 5 (notes): note 0 at file offset 0x2040: its "
                      "4294967295-byte name runs past the end of the notes");
    make_exec_note(&B, &n);
    put32(&B, EX_NOTE_OFF + 4, 0xfffffff0);
    EXPECT_REJECT(&B, "its 4294967280-byte descriptor runs past the end of the notes");
    make_exec_note(&B, &n);
    put32(&B, EX_NOTE_OFF + 4, 57);
    EXPECT_REJECT(&B, "its 57-byte descriptor runs past");
    make_exec_note(&B, &n);
    B.ph[EX_NOTE].p_filesz -= 1; /* the descriptor's last byte cut */
    EXPECT_REJECT(&B, "its 56-byte descriptor runs past");
    /* A malformed note of another owner is refused too: the walk cannot go on. */
    make_exec(&B);
    size_t len = put_note(&B, EX_NOTE_OFF, "GNU", 4, 3, "abcd", 4, 4);
    put32(&B, EX_NOTE_OFF + 4, 40);
    add_ph(&B, PT_NOTE, PF_R, EX_NOTE_OFF, 0x402040, len, len, 4);
    EXPECT_REJECT(&B, "its 40-byte descriptor runs past");
    /* The segment itself outside the file. */
    make_exec_note(&B, &n);
    B.ph[EX_NOTE].p_offset = EX_SIZE - 16;
    EXPECT_REJECT(&B, "program header 5 (notes): file range 0x3070+0x48 runs past the end of "
                      "the file (0x3080 bytes)");
    B.ph[EX_NOTE].p_offset = UINT64_MAX - 0x10;
    EXPECT_REJECT(&B, "(notes): file range");
}

/* The last note's padding may be missing; an empty PT_NOTE is fine. */
static void note_edges(void)
{
    struct hv_image_note n = hv_note("x");
    make_exec(&B);
    uint64_t len = put_note(&B, EX_NOTE_OFF, "GNU", 4, 1, "ab", 2, 4);
    len += put_hv_note(&B, EX_NOTE_OFF + len, &n);
    len += put_note(&B, EX_NOTE_OFF + len, "GNU", 4, 1, "ab", 2, 4) - 2;
    add_ph(&B, PT_NOTE, PF_R, EX_NOTE_OFF, 0x402040, len, len, 4);
    add_ph(&B, PT_NOTE, PF_R, 0, 0, 0, 0, 4);
    EXPECT_ACCEPT(&B);
    CHECK(img.have_note);
    /* A name whose padding runs out exactly at the end, with no descriptor. */
    make_exec(&B);
    len = put_note(&B, EX_NOTE_OFF, "abcde", 5, 1, "", 0, 4);
    add_ph(&B, PT_NOTE, PF_R, EX_NOTE_OFF, 0x402040, 17, 17, 4);
    EXPECT_ACCEPT(&B);
    CHECK(!img.have_note);
}

/* ---- the reason buffer ---- */

static void why_buffer_handling(void)
{
    make_exec(&B);
    B.eh.e_machine = EM_AARCH64;
    finish(&B);
    char small[16];
    memset(small, 'X', sizeof(small));
    CHECK(elf_image_check(B.data, B.size, &img, small, sizeof(small)) < 0);
    CHECK_STR_EQ(small, "built for AArch");
    char one[1] = {'X'};
    CHECK(elf_image_check(B.data, B.size, &img, one, 1) < 0);
    CHECK_EQ_U64(one[0], 0);
    CHECK(elf_image_check(B.data, B.size, &img, NULL, 0) < 0);
    CHECK(elf_image_check(B.data, B.size, &img, NULL, 99) < 0);
    CHECK(elf_image_check(NULL, 100, &img, why, sizeof(why)) < 0);
    CHECK_STR_EQ(why, "the file is empty");
    /* Success clears it. */
    make_exec(&B);
    finish(&B);
    strcpy(why, "stale");
    CHECK(elf_image_check(B.data, B.size, &img, why, sizeof(why)) == 0);
    CHECK_STR_EQ(why, "");
}

/* Every prefix of a valid file is rejected (or, for the longest ones that
 * only cut bytes no segment needs, accepted) without reading past its end. */
static void every_truncation(void)
{
    make_pie(&B);
    finish(&B);
    size_t accepted = 0;
    for (size_t n = 0; n < B.size; n++) {
        free(file);
        file = malloc(n ? n : 1);
        memcpy(file, B.data, n);
        if (elf_image_check(file, n, &img, why, sizeof(why)) == 0)
            accepted++;
        CHECK(why[0] != 0 || accepted);
    }
    CHECK_EQ_U64(accepted, 0);
}

int main(void)
{
    check_suite = "elf_image";
    RUN_TEST(exec_valid);
    RUN_TEST(exec_relocate_does_nothing);
    RUN_TEST(exec_gnu_osabi_accepted);
    RUN_TEST(exec_unsorted_and_odd_headers);
    RUN_TEST(exec_without_gnu_stack);
    RUN_TEST(exec_image_area_edges);
    RUN_TEST(exec_memory_limit_exact);
    RUN_TEST(exec_sixteen_segments);
    RUN_TEST(exec_sixty_four_phdrs);
    RUN_TEST(exec_with_harmless_dynamic);
    RUN_TEST(pie_valid_and_relocated);
    RUN_TEST(pie_linked_high);
    RUN_TEST(pie_unaligned_first_segment);
    RUN_TEST(pie_without_dynamic);
    RUN_TEST(pie_relocation_variants);
    RUN_TEST(pie_span_edge);
    RUN_TEST(header_empty_and_tiny);
    RUN_TEST(header_not_elf);
    RUN_TEST(header_truncated);
    RUN_TEST(header_ident);
    RUN_TEST(header_type);
    RUN_TEST(header_machine);
    RUN_TEST(header_names_what_it_is);
    RUN_TEST(header_version_and_sizes);
    RUN_TEST(header_phnum);
    RUN_TEST(header_phoff);
    RUN_TEST(phdr_interp);
    RUN_TEST(phdr_tls);
    RUN_TEST(phdr_exec_stack);
    RUN_TEST(phdr_two_dynamic);
    RUN_TEST(load_file_range);
    RUN_TEST(load_filesz_above_memsz);
    RUN_TEST(load_wraps);
    RUN_TEST(load_permissions);
    RUN_TEST(load_alignment);
    RUN_TEST(load_overlap_and_shared_page);
    RUN_TEST(load_image_area);
    RUN_TEST(load_none);
    RUN_TEST(load_too_many);
    RUN_TEST(load_memory_limit);
    RUN_TEST(entry_checks);
    RUN_TEST(dyn_needed);
    RUN_TEST(dyn_rel_and_plt);
    RUN_TEST(dyn_rela_fields);
    RUN_TEST(dyn_rela_location);
    RUN_TEST(dyn_table_bounds);
    RUN_TEST(dyn_exec_with_relocations);
    RUN_TEST(reloc_types);
    RUN_TEST(reloc_type_names);
    RUN_TEST(reloc_targets);
    RUN_TEST(reloc_write_failure);
    RUN_TEST(reloc_bad_image_description);
    RUN_TEST(note_valid);
    RUN_TEST(note_among_others);
    RUN_TEST(note_bad_descriptor);
    RUN_TEST(policy_note);
    RUN_TEST(note_abi_version);
    RUN_TEST(note_bad_name);
    RUN_TEST(note_duplicates);
    RUN_TEST(note_malformed);
    RUN_TEST(note_edges);
    RUN_TEST(why_buffer_handling);
    RUN_TEST(every_truncation);
    free(file);
    return check_finish();
}
