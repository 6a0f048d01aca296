/* Guest image validator tests: loadable segments, the entry point, the
 * dynamic table and relocations (tests/unit/elf_image_fixture.h builds the
 * images). Rejection tests start from a valid image and break one thing. */
#include "tests/unit/elf_image_fixture.h"

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
    EXPECT_REJECT(&B, "the loadable segments need 0x40001000 bytes (1025 MiB); hv allows at "
                      "most 1 GiB");
    /* Many big ones, so a sum that wrapped would go unnoticed. */
    make_exec(&B);
    for (unsigned i = 0; i < 12; i++)
        add_ph(&B, PT_LOAD, PF_R, 0, 0x10000000000ull * (i + 1), 0, 0xfffffff000ull, 0x1000);
    EXPECT_REJECT(&B, "hv allows at most 1 GiB");
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
    EXPECT_REJECT(&B, "the relocation table 0x2800+0x48 (DT_RELA, DT_RELASZ) is not in one "
                      "segment's file data");
    set_dyn(&B, 0, DT_RELA, 0x3c0); /* straddles the end of the R segment's file bytes */
    EXPECT_REJECT(&B, "the relocation table 0x3c0+0x48");
    set_dyn(&B, 0, DT_RELA, 0x9000); /* nowhere */
    EXPECT_REJECT(&B, "is not in one segment's file data");
    set_dyn(&B, 0, DT_RELA, UINT64_MAX - 8);
    EXPECT_REJECT(&B, "is not in one segment's file data");
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
    EXPECT_REJECT(&B, "an ET_EXEC image with dynamic relocations (DT_RELA)");
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

int main(void)
{
    check_suite = "elf_image_load";
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
    free(file);
    return check_finish();
}
