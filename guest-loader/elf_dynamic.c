/* The dynamic table: the only things a statically linked guest may keep in
 * it are its own RELA relocations (static-pie) and entries hv has no use
 * for. Anything that needs a dynamic loader (shared libraries, PLT
 * relocations) is refused with a reason. */
#include "guest-loader/elf_internal.h"

/* Every tag read here is below this; others are ignored. */
#define DT_TRACKED 24

_Static_assert(sizeof(Elf64_Dyn) == 16 && sizeof(Elf64_Rela) == 24, "ELF64 layout");

struct dyn_tags {
    bool seen[DT_TRACKED];
    uint64_t val[DT_TRACKED]; /* for DT_NEEDED, the first one's */
};

static const char *unique_tag_name(int64_t tag)
{
    switch (tag) {
    case DT_STRTAB: return "DT_STRTAB";
    case DT_STRSZ: return "DT_STRSZ";
    case DT_RELA: return "DT_RELA";
    case DT_RELASZ: return "DT_RELASZ";
    case DT_RELAENT: return "DT_RELAENT";
    default: return NULL;
    }
}

static int read_tags(const struct elf_check *c, unsigned index, const Elf64_Phdr *ph,
                     struct dyn_tags *t)
{
    uint64_t entries = ph->p_filesz / sizeof(Elf64_Dyn);
    for (uint64_t i = 0; i < entries; i++) {
        uint64_t off = ph->p_offset + i * sizeof(Elf64_Dyn);
        int64_t tag = (int64_t)elf_read64(&c->f, off);
        uint64_t val = elf_read64(&c->f, off + 8);
        if (tag == DT_NULL)
            return 0;
        if (tag < 0 || tag >= DT_TRACKED)
            continue;
        if (t->seen[tag] && tag == DT_NEEDED)
            continue;
        /* Two answers to one question: whichever hv picked, a loader that
         * picked the other would load a different program. */
        const char *name = unique_tag_name(tag);
        if (t->seen[tag] && name)
            return elf_reject(&c->f, "the dynamic table (program header %u) has two %s entries",
                              index, name);
        t->seen[tag] = true;
        t->val[tag] = val;
    }
    return elf_reject(&c->f, "the dynamic table (program header %u) has no DT_NULL terminator "
                             "within its 0x%lx bytes", index, ph->p_filesz);
}

static int refuse_needed(const struct elf_check *c, const struct dyn_tags *t)
{
    uint64_t name = t->val[DT_NEEDED], strtab = t->val[DT_STRTAB];
    uint64_t max = 256, off;
    char lib[64];
    bool named = t->seen[DT_STRTAB] && name <= UINT64_MAX - strtab;
    if (named && t->seen[DT_STRSZ]) {
        named = name < t->val[DT_STRSZ];
        max = t->val[DT_STRSZ] - name;
    }
    named = named && elf_vaddr_to_offset(c, strtab + name, 1, &off) &&
            elf_string(&c->f, off, max, lib, sizeof(lib)) && lib[0];
    if (named)
        return elf_reject(&c->f, "needs the shared library %s (DT_NEEDED); hv runs only "
                                 "statically linked programs", lib);
    return elf_reject(&c->f, "needs shared libraries (DT_NEEDED); hv runs only statically "
                             "linked programs");
}

static int check_rela(struct elf_check *c, const struct dyn_tags *t)
{
    const struct elf_file *f = &c->f;
    if (t->seen[DT_RELAENT] && t->val[DT_RELAENT] != sizeof(Elf64_Rela))
        return elf_reject(f, "DT_RELAENT is %lu; Elf64_Rela entries are 24 bytes",
                          t->val[DT_RELAENT]);
    if (t->seen[DT_RELA] && !t->seen[DT_RELASZ])
        return elf_reject(f, "the dynamic table has DT_RELA but no DT_RELASZ");
    if (!t->seen[DT_RELA] && t->seen[DT_RELASZ])
        return elf_reject(f, "the dynamic table has DT_RELASZ but no DT_RELA");
    uint64_t addr = t->val[DT_RELA], bytes = t->val[DT_RELASZ];
    if (bytes % sizeof(Elf64_Rela))
        return elf_reject(f, "DT_RELASZ 0x%lx is not a whole number of 24-byte Elf64_Rela "
                             "entries", bytes);
    if (bytes == 0)
        return 0;
    if (c->eh.e_type == ET_EXEC)
        return elf_reject(f, "an ET_EXEC image with dynamic relocations (DT_RELA); hv relocates "
                             "only static-pie (ET_DYN) ones");
    uint64_t off;
    if (!elf_vaddr_to_offset(c, addr, bytes, &off))
        return elf_reject(f, "the relocation table 0x%lx+0x%lx (DT_RELA, DT_RELASZ) is not in "
                             "one segment's file data", addr, bytes);
    c->out->rela_offset = off;
    c->out->rela_count = bytes / sizeof(Elf64_Rela);
    return elf_walk_relocations(c->out, f, 0, c->out->rela_count, NULL, NULL);
}

int elf_check_dynamic(struct elf_check *c, unsigned index, const Elf64_Phdr *ph)
{
    struct dyn_tags t = {0};
    int rc = elf_check_file_range(c, index, "PT_DYNAMIC", ph);
    if (!rc)
        rc = read_tags(c, index, ph, &t);
    if (rc)
        return rc;
    if (t.seen[DT_NEEDED])
        return refuse_needed(c, &t);
    if (t.seen[DT_REL] || (t.seen[DT_RELSZ] && t.val[DT_RELSZ]))
        return elf_reject(&c->f, "uses REL-format relocations (DT_REL, DT_RELSZ); x86-64 "
                                 "programs use RELA");
    if ((t.seen[DT_JMPREL] && t.val[DT_JMPREL]) || (t.seen[DT_PLTRELSZ] && t.val[DT_PLTRELSZ]))
        return elf_reject(&c->f, "has PLT relocations (DT_JMPREL, DT_PLTRELSZ), which only a "
                                 "dynamic loader resolves");
    return check_rela(c, &t);
}
