/* What the guest image validator tests share (tests/unit/test_elf_image*.c,
 * one binary each): ELF files built in memory by a small builder (header,
 * program headers, bytes at chosen offsets) and the standard images they
 * start from; each check gets a heap copy of exactly the file's size, so any
 * read past the end is an ASan error. With HV_ELF_CORPUS_DIR set, every
 * file checked is also written there, named after the suite (the fuzzer's
 * seed corpus, see tests/fuzz/run-fuzz.sh). Each test file includes it once. */
#pragma once

#include "guest-loader/elf_image.h"

#include <assert.h>

#include "lib/elf64.h"
#include "tests/unit/check.h"

/* Not every test file uses every helper. */
#define FIXTURE static __attribute__((unused))

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

FIXTURE void grow(struct builder *b, uint64_t end)
{
    assert(end <= BUF_MAX);
    if (end > b->size)
        b->size = end;
}

FIXTURE void put_bytes(struct builder *b, uint64_t off, const void *p, size_t n)
{
    grow(b, off + n);
    memcpy(b->data + off, p, n);
}

FIXTURE void put32(struct builder *b, uint64_t off, uint32_t v) { put_bytes(b, off, &v, 4); }
FIXTURE void put64(struct builder *b, uint64_t off, uint64_t v) { put_bytes(b, off, &v, 8); }

FIXTURE void fill(struct builder *b, uint64_t off, int byte, size_t n)
{
    grow(b, off + n);
    memset(b->data + off, byte, n);
}

FIXTURE void b_init(struct builder *b, uint16_t type, uint64_t entry)
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

FIXTURE unsigned add_ph(struct builder *b, uint32_t type, uint32_t flags, uint64_t offset,
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
FIXTURE unsigned add_load(struct builder *b, uint32_t flags, uint64_t offset, uint64_t vaddr,
                         uint64_t filesz, uint64_t memsz, int byte)
{
    if (filesz)
        fill(b, offset, byte, filesz);
    return add_ph(b, PT_LOAD, flags, offset, vaddr, filesz, memsz, 0x1000);
}

FIXTURE void finish(struct builder *b)
{
    memcpy(b->data, &b->eh, sizeof(b->eh));
    for (unsigned i = 0; i < b->phnum; i++)
        put_bytes(b, b->ph_write_off + i * sizeof(Elf64_Phdr), &b->ph[i], sizeof(Elf64_Phdr));
}

/* A note at off; returns its size including padding to `align`. */
FIXTURE size_t put_note(struct builder *b, uint64_t off, const char *name, uint32_t namesz,
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

FIXTURE struct hv_image_note hv_note(const char *name)
{
    struct hv_image_note n = {.abi_version = HV_ABI_VERSION, .vcpus = 2,
                              .memory_bytes = 16u << 20, .stack_bytes = 0x10000};
    strncpy(n.name, name, sizeof(n.name));
    return n;
}

FIXTURE size_t put_hv_note(struct builder *b, uint64_t off, const struct hv_image_note *n)
{
    return put_note(b, off, "hv", 3, HV_NOTE_GUEST, n, sizeof(*n), 4);
}

/* ---- the standard images ---- */

/* ET_EXEC at 0x400000: 0 headers (R), 1 text (RX), 2 rodata (R), 3 data+bss
 * (RW), 4 GNU_STACK (RW). File size 0x3080. */
enum { EX_HDR, EX_TEXT, EX_RODATA, EX_DATA, EX_STACK };
#define EX_ENTRY 0x401010
#define EX_SIZE 0x3080

FIXTURE void make_exec(struct builder *b)
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

FIXTURE void make_exec_note(struct builder *b, const struct hv_image_note *note)
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

FIXTURE void set_dyn(struct builder *b, unsigned slot, int64_t tag, uint64_t val)
{
    put64(b, PIE_DYN + slot * 16, (uint64_t)tag);
    put64(b, PIE_DYN + slot * 16 + 8, val);
}

FIXTURE void set_rela(struct builder *b, unsigned i, uint64_t where, uint32_t type, uint32_t sym,
                     int64_t addend)
{
    put64(b, PIE_RELA + i * 24, where);
    put64(b, PIE_RELA + i * 24 + 8, (uint64_t)sym << 32 | type);
    put64(b, PIE_RELA + i * 24 + 16, (uint64_t)addend);
}

FIXTURE void make_pie_at(struct builder *b, uint64_t link_base)
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

FIXTURE void make_pie(struct builder *b) { make_pie_at(b, 0); }

/* ---- running the validator ---- */

static struct elf_image img;
static char why[256];
static unsigned char *file; /* the last file checked, exactly its size */
static size_t file_size;

FIXTURE void save_corpus(int rc)
{
    static unsigned serial;
    const char *dir = getenv("HV_ELF_CORPUS_DIR");
    if (!dir)
        return;
    char path[4096];
    /* The suite in the name: every test binary of the validator writes here. */
    snprintf(path, sizeof(path), "%s/%s-%s-%04u.elf", dir, check_suite, rc == 0 ? "valid" : "rejected",
             serial++);
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return;
    fwrite(file, 1, file_size, fp);
    fclose(fp);
}

FIXTURE int check_bytes(const void *data, size_t size)
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

FIXTURE int run(struct builder *b)
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

FIXTURE int sink_write64(void *arg, uint64_t va, uint64_t value)
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
