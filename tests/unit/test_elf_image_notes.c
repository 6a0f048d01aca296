/* Guest image validator tests: the hv image note and the policy note, the
 * reason buffer, and every truncation of a valid image
 * (tests/unit/elf_image_fixture.h builds the images). */
#include "tests/unit/elf_image_fixture.h"

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
    check_suite = "elf_image_notes";
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
