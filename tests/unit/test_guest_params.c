/* guest-loader/guest_params: defaults < image note < hv.cfg, and every
 * refusal on the merged result: the defaults, the image note, malformed
 * hv.cfg, the reason buffer and bad arguments (hv.cfg's keys and unknown
 * sections have test_guest_params_cfg.c; the shared runner is
 * guest_params_fixture.h). */
#include "tests/unit/guest_params_fixture.h"

/* ---- defaults ---- */

static void defaults_for_a_small_image(void)
{
    struct guest_params p;
    EXPECT_OK("hello.elf", 64 * KiB, NULL, NULL, p);
    CHECK_STR_EQ(p.name, "hello");
    CHECK_EQ_U64(p.vcpus, 1);
    CHECK_EQ_U64(p.stack_bytes, 64 * KiB);
    CHECK_EQ_U64(p.memory_bytes, 4 * MiB);
    CHECK(p.enabled);

    EXPECT_OK("hello.elf", 0, NULL, "", p);
    CHECK_EQ_U64(p.memory_bytes, 4 * MiB);
}

static void default_name_strips_elf_and_sanitises(void)
{
    static const struct { const char *file, *name; } cases[] = {
        {"hello.elf", "hello"},
        {"HELLO.ELF", "hello"},
        {"Hello.Elf", "hello"},
        {"MiXeD-Case_9.ELF", "mixed-case_9"},
        {"a.elf.elf", "a.elf"},
        {"noext", "noext"},
        {"x.elfx", "x.elfx"},
        {"x.bin", "x.bin"},
        {"elf", "elf"},
        {"my guest+1.elf", "my_guest_1"},
        {"caf\xc3\xa9.elf", "caf__"},
        {"a-b_c.d.elf", "a-b_c.d"},
        {".elf", "guest"},
        {"", "guest"},
        {"abcdefghijklmnopqrstuvwxyz0123456789.elf", "abcdefghijklmnopqrstuvwxyz01234"},
        {"0123456789012345678901234567890.elf", "0123456789012345678901234567890"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct guest_params p;
        EXPECT_OK(cases[i].file, 0, NULL, NULL, p);
        CHECK_STR_EQ(p.name, cases[i].name);
        CHECK(!p.name_from_cfg);
        CHECK_STR_EQ(p.ignored_note_name, "");
    }
}

static void default_memory_grows_with_image_and_rounds(void)
{
    struct guest_params p;
    /* 10 MiB + 1 x (64 KiB + 4 KiB) + 1 MiB */
    EXPECT_OK("big.elf", 10 * MiB, NULL, NULL, p);
    CHECK_EQ_U64(p.memory_bytes, 11 * MiB + 68 * KiB);
    EXPECT_OK("big.elf", 10 * MiB + 1, NULL, NULL, p);
    CHECK_EQ_U64(p.memory_bytes, 11 * MiB + 72 * KiB);
    /* Just below and at the 4 MiB floor. */
    EXPECT_OK("big.elf", 3 * MiB - 68 * KiB, NULL, NULL, p);
    CHECK_EQ_U64(p.memory_bytes, 4 * MiB);
    EXPECT_OK("big.elf", 3 * MiB - 68 * KiB + 1, NULL, NULL, p);
    CHECK_EQ_U64(p.memory_bytes, 4 * MiB + 4 * KiB);
}

static void default_memory_uses_final_vcpus_and_stack(void)
{
    struct guest_params p;
    struct hv_image_note n = make_note(4, 0, 1 * MiB, NULL);
    EXPECT_OK("big.elf", 8 * MiB, &n, NULL, p);
    CHECK_EQ_U64(p.memory_bytes, 8 * MiB + 4 * (1 * MiB + 4 * KiB) + 1 * MiB);

    EXPECT_OK("big.elf", 8 * MiB, &n, "[guest big.elf]\nvcpus = 2\nstack = 2M\n", p);
    CHECK_EQ_U64(p.memory_bytes, 8 * MiB + 2 * (2 * MiB + 4 * KiB) + 1 * MiB);

    /* The stack is rounded before it is counted. */
    EXPECT_OK("big.elf", 8 * MiB, NULL, "[guest big.elf]\nstack = 4097\nvcpus = 3\n", p);
    CHECK_EQ_U64(p.memory_bytes, 8 * MiB + 3 * (8 * KiB + 4 * KiB) + 1 * MiB);
}

static void default_memory_is_capped_when_the_image_fits(void)
{
    struct guest_params p;
    /* need = 64 GiB - 1 MiB + 68 KiB + 8 KiB <= 64 GiB, default would be more. */
    EXPECT_OK("huge.elf", 64 * GiB - 1 * MiB, NULL, NULL, p);
    CHECK_EQ_U64(p.memory_bytes, 64 * GiB);
    /* Exactly fits: 64 GiB - 68 KiB - 8 KiB of image. */
    EXPECT_OK("huge.elf", 64 * GiB - 76 * KiB, NULL, NULL, p);
    CHECK_EQ_U64(p.memory_bytes, 64 * GiB);
    EXPECT_REFUSED("huge.elf", 64 * GiB - 76 * KiB + 1, NULL, NULL, "64 GiB", "image");
}

/* ---- the image note ---- */

static void note_overrides_defaults(void)
{
    struct guest_params p;
    struct hv_image_note n = make_note(3, 32 * MiB, 128 * KiB, "fromnote");
    EXPECT_OK("hello.elf", 64 * KiB, &n, NULL, p);
    CHECK_STR_EQ(p.name, "hello");          /* never the note's */
    CHECK_STR_EQ(p.ignored_note_name, "fromnote");
    CHECK_EQ_U64(p.vcpus, 3);
    CHECK_EQ_U64(p.stack_bytes, 128 * KiB);
    CHECK_EQ_U64(p.memory_bytes, 32 * MiB);
    CHECK(p.enabled);
}

static void note_zero_fields_mean_default(void)
{
    struct guest_params p;
    struct hv_image_note n = make_note(0, 0, 0, NULL);
    EXPECT_OK("hello.elf", 64 * KiB, &n, NULL, p);
    CHECK_STR_EQ(p.name, "hello");
    CHECK_EQ_U64(p.vcpus, 1);
    CHECK_EQ_U64(p.stack_bytes, 64 * KiB);
    CHECK_EQ_U64(p.memory_bytes, 4 * MiB);

    n = make_note(2, 0, 0, NULL);
    EXPECT_OK("hello.elf", 64 * KiB, &n, NULL, p);
    CHECK_EQ_U64(p.vcpus, 2);
    CHECK_EQ_U64(p.stack_bytes, 64 * KiB);
}

static void note_abi_version_must_match(void)
{
    struct hv_image_note n = make_note(1, 0, 0, NULL);
    n.abi_version = 0;
    EXPECT_REFUSED("hello.elf", 0, &n, NULL, "image note: abi_version = 0", NULL);
    n.abi_version = HV_ABI_VERSION + 1;
    char want[48];
    snprintf(want, sizeof(want), "image note: abi_version = %u", HV_ABI_VERSION + 1);
    EXPECT_REFUSED("hello.elf", 0, &n, NULL, want, NULL);
    n.abi_version = 0xffffffffu;
    EXPECT_REFUSED("hello.elf", 0, &n, NULL, "abi_version = 4294967295", NULL);
}

static void note_values_are_validated(void)
{
    struct hv_image_note n = make_note(40, 0, 0, NULL);
    EXPECT_MESSAGE("hello.elf", 0, &n, NULL,
                   "image note: vcpus = 40: must be between 1 and 16 vCPUs");
    n = make_note(0xffffffffu, 0, 0, NULL);
    EXPECT_REFUSED("hello.elf", 0, &n, NULL, "image note: vcpus = 4294967295", NULL);
    n = make_note(0, 0x10, 0, NULL);
    EXPECT_MESSAGE("hello.elf", 0, &n, NULL,
                   "image note: memory_bytes = 0x10: must be at least 256 KiB");
    n = make_note(0, UINT64_MAX, 0, NULL);
    EXPECT_REFUSED("hello.elf", 0, &n, NULL, "image note: memory_bytes = 0xffffffffffffffff",
                   "at most 64 GiB");
    n = make_note(0, 0, 1024, NULL);
    EXPECT_MESSAGE("hello.elf", 0, &n, NULL,
                   "image note: stack_bytes = 0x400: must be at least 4 KiB");
    n = make_note(0, 0, 32 * MiB, NULL);
    EXPECT_REFUSED("hello.elf", 0, &n, NULL, "image note: stack_bytes", "at most 16 MiB");
    n = make_note(0, 0, UINT64_MAX, NULL);
    EXPECT_REFUSED("hello.elf", 0, &n, NULL, "image note: stack_bytes", "at most 16 MiB");
    n = make_note(0, 1 * MiB, 0, NULL);
    EXPECT_REFUSED("hello.elf", 2 * MiB, &n, NULL, "image note: memory_bytes = 0x100000",
                   "needs at least");
}

static void note_values_are_rounded(void)
{
    struct guest_params p;
    struct hv_image_note n = make_note(0, 5 * MiB + 1, 5000, NULL);
    EXPECT_OK("hello.elf", 0, &n, NULL, p);
    CHECK_EQ_U64(p.stack_bytes, 8 * KiB);
    CHECK_EQ_U64(p.memory_bytes, 5 * MiB + 4 * KiB);
}

/* The note's name is the image's wish, not its identity (attack 8: an image
 * claiming another guest's name got that guest's shared memory): whatever
 * it holds, the name comes from the file name or hv.cfg, and nothing in the
 * note's name field can get the image refused either. */
static void note_name_is_ignored(void)
{
    struct guest_params p;
    struct hv_image_note n = make_note(0, 0, 0, "producer");
    EXPECT_OK("impostor.elf", 0, &n, NULL, p);
    CHECK_STR_EQ(p.name, "impostor");
    CHECK(!p.name_from_cfg);
    CHECK_STR_EQ(p.ignored_note_name, "producer");

    /* The same name as the file's: nothing to report. */
    n = make_note(0, 0, 0, "hello");
    EXPECT_OK("hello.elf", 0, &n, NULL, p);
    CHECK_STR_EQ(p.name, "hello");
    CHECK_STR_EQ(p.ignored_note_name, "");
    /* Differing only in case still differs: the name is "hello". */
    n = make_note(0, 0, 0, "Hello");
    EXPECT_OK("hello.elf", 0, &n, NULL, p);
    CHECK_STR_EQ(p.name, "hello");
    CHECK_STR_EQ(p.ignored_note_name, "Hello");

    /* hv.cfg names it: the note is still ignored, against hv.cfg's name. */
    n = make_note(0, 0, 0, "producer");
    EXPECT_OK("impostor.elf", 0, &n, "[guest impostor.elf]\nname = consumer\n", p);
    CHECK_STR_EQ(p.name, "consumer");
    CHECK(p.name_from_cfg);
    CHECK_STR_EQ(p.ignored_note_name, "producer");

    /* Names that used to be refused are now just ignored, and echoed only
     * as printable text. */
    memset(n.name, 'x', sizeof(n.name));    /* 32 characters, no NUL */
    EXPECT_OK("hello.elf", 0, &n, NULL, p);
    CHECK_STR_EQ(p.name, "hello");
    CHECK_STR_EQ(p.ignored_note_name, "xxxxxxxxxxxxxxxxxxxxxxxx...");
    n = make_note(0, 0, 0, "my guest");
    EXPECT_OK("hello.elf", 0, &n, NULL, p);
    CHECK_STR_EQ(p.ignored_note_name, "my guest");
    n = make_note(0, 0, 0, "a\x1b[2Jb");
    EXPECT_OK("hello.elf", 0, &n, NULL, p);
    CHECK_STR_EQ(p.ignored_note_name, "a?[2Jb");
    n = make_note(0, 0, 0, "caf\xc3\xa9");
    EXPECT_OK("hello.elf", 0, &n, NULL, p);
    CHECK_STR_EQ(p.ignored_note_name, "caf??");
    /* Bytes after the NUL do not matter. */
    n = make_note(0, 0, 0, "hello");
    memcpy(n.name + 6, "bad chars!", 10);
    EXPECT_OK("hello.elf", 0, &n, NULL, p);
    CHECK_STR_EQ(p.ignored_note_name, "");
    /* The other note fields still count. */
    n = make_note(2, 0, 0, "producer");
    EXPECT_OK("hello.elf", 0, &n, NULL, p);
    CHECK_EQ_U64(p.vcpus, 2);
}

static void names_are_equal_ignoring_case_only(void)
{
    CHECK(guest_name_equal("producer", "producer"));
    CHECK(guest_name_equal("Producer", "pRODUCER"));
    CHECK(guest_name_equal("", ""));
    CHECK(!guest_name_equal("producer", "producer2"));
    CHECK(!guest_name_equal("producer", "produce"));
    CHECK(!guest_name_equal("a_b", "a-b"));
    CHECK(!guest_name_equal("a", ""));
    /* Two files that make one name: the loader rejects the second. */
    struct guest_params p1, p2;
    EXPECT_OK("my game.elf", 0, NULL, NULL, p1);
    EXPECT_OK("MY_GAME", 0, NULL, NULL, p2);
    CHECK(guest_name_equal(p1.name, p2.name));
}


/* ---- malformed hv.cfg ---- */

static void syntax_error_before_the_section_hides_it(void)
{
    struct guest_params p;
    EXPECT_OK("hello.elf", 0, NULL, "[hv\n[guest hello.elf]\nvcpus = 2\n", p);
    CHECK_EQ_U64(p.vcpus, 1);
    /* Even a bad value of ours after the syntax error goes unread. */
    EXPECT_OK("hello.elf", 0, NULL, "junk\n[guest hello.elf]\nvcpus = 99\nbogus = 1\n", p);
    CHECK_EQ_U64(p.vcpus, 1);
}

static void syntax_error_after_keeps_what_came_before(void)
{
    struct guest_params p;
    EXPECT_OK("hello.elf", 0, NULL,
              "[guest hello.elf]\nvcpus = 2\n[guest other.elf\nvcpus = 3\n", p);
    CHECK_EQ_U64(p.vcpus, 2);
    /* Inside our own section: the keys before the bad line count. */
    EXPECT_OK("hello.elf", 0, NULL,
              "[guest hello.elf]\nvcpus = 2\nstack 8K\nvcpus = 3\nmemory = 0\n", p);
    CHECK_EQ_U64(p.vcpus, 2);
    CHECK_EQ_U64(p.stack_bytes, 64 * KiB);
    /* A refusal of ours is reported even when a syntax error follows. */
    EXPECT_REFUSED("hello.elf", 0, NULL, "[guest hello.elf]\nvcpus = 99\n\"oops\n",
                   "vcpus = 99", NULL);
    EXPECT_REFUSED("hello.elf", 0, NULL, "[guest hello.elf]\nmemory = x\n\"oops\n",
                   "memory = x", NULL);
}

static void hostile_cfg_bytes(void)
{
    struct guest_params p;
    /* A NUL byte in the middle: the parse stops there. */
    static const char with_nul[] = "[guest hello.elf]\nvcpus = 2\nvc\0pus = 3\nvcpus = 4\n";
    memset(&p, 0, sizeof(p));
    CHECK(resolve_n("hello.elf", 0, NULL, with_nul, sizeof(with_nul) - 1, &p) == 0);
    CHECK_EQ_U64(p.vcpus, 2);
    /* No final newline, CRLF and a BOM. */
    static const char crlf[] = "\xef\xbb\xbf[guest hello.elf]\r\nvcpus = 5";
    CHECK(resolve_n("hello.elf", 0, NULL, crlf, sizeof(crlf) - 1, &p) == 0);
    CHECK_EQ_U64(p.vcpus, 5);
    /* Cut mid-line: "vcpus = 1" of "vcpus = 12". */
    static const char cut[] = "[guest hello.elf]\nvcpus = 12";
    CHECK(resolve_n("hello.elf", 0, NULL, cut, sizeof(cut) - 2, &p) == 0);
    CHECK_EQ_U64(p.vcpus, 1);
    CHECK(resolve_n("hello.elf", 0, NULL, cut, sizeof(cut) - 1, &p) == 0);
    CHECK_EQ_U64(p.vcpus, 12);
    /* NULL text with a length is no hv.cfg at all. */
    CHECK(guest_params_resolve("hello.elf", 0, NULL, NULL, 100, &p, why, sizeof(why)) == 0);
    CHECK_EQ_U64(p.vcpus, 1);
    /* A line too long for the tokenizer. */
    char long_line[600];
    memset(long_line, 'a', sizeof(long_line));
    memcpy(long_line, "[guest hello.elf]\nvcpus = 3\nname = ", 35);
    CHECK(resolve_n("hello.elf", 0, NULL, long_line, sizeof(long_line), &p) == 0);
    CHECK_EQ_U64(p.vcpus, 3);
    CHECK_STR_EQ(p.name, "hello");
}

/* ---- the why buffer and bad arguments ---- */

static void why_buffer_handling(void)
{
    struct guest_params p;
    char small[12];
    memset(small, 'z', sizeof(small));
    CHECK(guest_params_resolve("hello.elf", 0, NULL, "[guest hello.elf]\nvcpus = 0\n", 28, &p,
                               small, sizeof(small)) < 0);
    CHECK_STR_EQ(small, "hv.cfg [gue");
    memset(small, 'z', sizeof(small));
    CHECK(guest_params_resolve("hello.elf", UINT64_MAX, NULL, NULL, 0, &p, small,
                               sizeof(small)) < 0);
    CHECK_STR_EQ(small, "image of 0x");
    /* A tiny buffer ends the prefix mid-way; nothing is written past it. */
    char one[1] = {'z'};
    CHECK(guest_params_resolve("hello.elf", 0, NULL, "[guest hello.elf]\nvcpus = 0\n", 28, &p,
                               one, 1) < 0);
    CHECK(one[0] == '\0');
    /* No buffer at all. */
    CHECK(guest_params_resolve("hello.elf", 0, NULL, "[guest hello.elf]\nvcpus = 0\n", 28, &p,
                               NULL, 0) < 0);
    CHECK(guest_params_resolve("hello.elf", 0, NULL, "[guest hello.elf]\nfoo = 1\n", 26, &p,
                               NULL, 0) < 0);
    CHECK(guest_params_resolve("hello.elf", 0, NULL, NULL, 0, &p, NULL, 0) == 0);
    /* Success clears it. */
    memset(small, 'z', sizeof(small));
    CHECK(guest_params_resolve("hello.elf", 0, NULL, NULL, 0, &p, small, sizeof(small)) == 0);
    CHECK_STR_EQ(small, "");
}

static void bad_arguments(void)
{
    struct guest_params p;
    CHECK(guest_params_resolve(NULL, 0, NULL, NULL, 0, &p, why, sizeof(why)) < 0);
    CHECK(why[0] != '\0');
    CHECK(guest_params_resolve("hello.elf", 0, NULL, NULL, 0, NULL, why, sizeof(why)) < 0);
}

int main(void)
{
    check_suite = "guest_params";
    RUN_TEST(defaults_for_a_small_image);
    RUN_TEST(default_name_strips_elf_and_sanitises);
    RUN_TEST(default_memory_grows_with_image_and_rounds);
    RUN_TEST(default_memory_uses_final_vcpus_and_stack);
    RUN_TEST(default_memory_is_capped_when_the_image_fits);
    RUN_TEST(note_overrides_defaults);
    RUN_TEST(note_zero_fields_mean_default);
    RUN_TEST(note_abi_version_must_match);
    RUN_TEST(note_values_are_validated);
    RUN_TEST(note_values_are_rounded);
    RUN_TEST(note_name_is_ignored);
    RUN_TEST(names_are_equal_ignoring_case_only);
    RUN_TEST(syntax_error_before_the_section_hides_it);
    RUN_TEST(syntax_error_after_keeps_what_came_before);
    RUN_TEST(hostile_cfg_bytes);
    RUN_TEST(why_buffer_handling);
    RUN_TEST(bad_arguments);
    return check_finish();
}
