/* guest-loader/guest_params: what hv.cfg's [guest] keys override and refuse,
 * and guest_params_unknown_sections (tests/unit/guest_params_fixture.h runs
 * the resolver). */
#include "tests/unit/guest_params_fixture.h"

/* ---- hv.cfg ---- */

static void cfg_overrides_note(void)
{
    struct guest_params p;
    struct hv_image_note n = make_note(3, 32 * MiB, 128 * KiB, "fromnote");
    EXPECT_OK("hello.elf", 64 * KiB, &n,
              "[guest hello.elf]\n"
              "name = fromcfg\n"
              "memory = 0x2000000\n"
              "stack = 256K\n"
              "vcpus = 5\n"
              "enabled = no\n",
              p);
    CHECK_STR_EQ(p.name, "fromcfg");
    CHECK_EQ_U64(p.memory_bytes, 32 * MiB);
    CHECK_EQ_U64(p.stack_bytes, 256 * KiB);
    CHECK_EQ_U64(p.vcpus, 5);
    CHECK(!p.enabled);

    /* Each key on its own: the others keep the note's value. */
    EXPECT_OK("hello.elf", 64 * KiB, &n, "[guest hello.elf]\nmemory = 1G\n", p);
    CHECK_STR_EQ(p.name, "hello");
    CHECK_EQ_U64(p.memory_bytes, 1 * GiB);
    CHECK_EQ_U64(p.stack_bytes, 128 * KiB);
    CHECK_EQ_U64(p.vcpus, 3);
    CHECK(p.enabled);
}

static void cfg_overrides_defaults(void)
{
    struct guest_params p;
    EXPECT_OK("hello.elf", 64 * KiB, NULL,
              "[guest hello.elf]\nname = x\nmemory = 8M\nstack = 16K\nvcpus = 16\nenabled = on\n",
              p);
    CHECK_STR_EQ(p.name, "x");
    CHECK_EQ_U64(p.memory_bytes, 8 * MiB);
    CHECK_EQ_U64(p.stack_bytes, 16 * KiB);
    CHECK_EQ_U64(p.vcpus, 16);
    CHECK(p.enabled);
}

static void validation_is_after_merging(void)
{
    struct guest_params p;
    /* The note's values are bad but hv.cfg replaces every one of them. */
    struct hv_image_note n = make_note(40, 0x10, 1, "bad name");
    EXPECT_OK("hello.elf", 0, &n,
              "[guest hello.elf]\nvcpus = 2\nmemory = 1M\nstack = 8K\nname = good\n", p);
    CHECK_EQ_U64(p.vcpus, 2);
    CHECK_EQ_U64(p.memory_bytes, 1 * MiB);
    CHECK_EQ_U64(p.stack_bytes, 8 * KiB);
    CHECK_STR_EQ(p.name, "good");
    /* A repeated key: the last one counts, also when the first was out of range. */
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\nvcpus = 99\nvcpus = 4\n", p);
    CHECK_EQ_U64(p.vcpus, 4);
    EXPECT_REFUSED("hello.elf", 0, NULL, "[guest hello.elf]\nvcpus = 4\nvcpus = 99\n",
                   "vcpus = 99", NULL);
}

static void section_match_ignores_case_but_nothing_else(void)
{
    struct guest_params p;
    EXPECT_OK("hello.elf", 0, NULL, "[guest HELLO.ELF]\nvcpus = 2\n", p);
    CHECK_EQ_U64(p.vcpus, 2);
    EXPECT_OK("HELLO.ELF", 0, NULL, "[guest hello.elf]\nvcpus = 3\n", p);
    CHECK_EQ_U64(p.vcpus, 3);
    CHECK_STR_EQ(p.name, "hello");
    EXPECT_OK("hello.elf", 0, NULL, "[ guest  Hello.Elf ]\nvcpus = 4\n", p);
    CHECK_EQ_U64(p.vcpus, 4);

    static const char *const others[] = {
        "[guest hello]\nvcpus = 2\n",
        "[guest hello.elf2]\nvcpus = 2\n",
        "[guest ello.elf]\nvcpus = 2\n",
        "[guest hello.el]\nvcpus = 2\n",
        "[guest]\nvcpus = 2\n",
        "[Guest hello.elf]\nvcpus = 2\n",
        "[guests hello.elf]\nvcpus = 2\n",
        "[hv hello.elf]\nvcpus = 2\n",
        "vcpus = 2\n",
        "[hv]\nvcpus = 2\n",
    };
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        EXPECT_OK("hello.elf", 0, NULL, others[i], p);
        CHECK_EQ_U64(p.vcpus, 1);
    }
    /* Several matching sections: read in order, the last value wins. */
    EXPECT_OK("hello.elf", 0, NULL,
              "[guest hello.elf]\nvcpus = 2\nstack = 8K\n"
              "[guest other.elf]\nvcpus = 9\n"
              "[guest HELLO.elf]\nvcpus = 3\n",
              p);
    CHECK_EQ_U64(p.vcpus, 3);
    CHECK_EQ_U64(p.stack_bytes, 8 * KiB);
}

static void other_sections_may_hold_anything(void)
{
    struct guest_params p;
    EXPECT_OK("hello.elf", 0, NULL,
              "[hv]\nlog_level = debug\nwhatever = 1\n"
              "[guest other.elf]\nbogus = 1\nmemory = lots\nvcpus = 99\nname = \"a b\"\n"
              "[guest hello.elf]\nvcpus = 2\n"
              "[guest other.elf]\nmemory = 0\n",
              p);
    CHECK_EQ_U64(p.vcpus, 2);
}

/* sha256 is image_policy.c's key: accepted here, whatever its value (that
 * check comes before the image is parsed), and no parameter changes. */
static void sha256_key_is_accepted_and_changes_nothing(void)
{
    struct guest_params plain, pinned;
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\nmemory = 8M\n", plain);
    EXPECT_OK("hello.elf", 0, NULL,
              "[guest hello.elf]\nmemory = 8M\n"
              "sha256 = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n",
              pinned);
    CHECK(memcmp(&plain, &pinned, sizeof(plain)) == 0);
}

static void file_name_that_no_section_can_name(void)
{
    struct guest_params p;
    /* "my game.elf" is not a valid section argument: defaults apply. */
    EXPECT_OK("my game.elf", 0, NULL, "[guest my_game.elf]\nvcpus = 2\n", p);
    CHECK_EQ_U64(p.vcpus, 1);
    CHECK_STR_EQ(p.name, "my_game");
}

static void cpus_from_cfg(void)
{
    struct guest_params p;
    EXPECT_OK("hello.elf", 0, NULL, "", p);
    CHECK_EQ_U64(p.cpus, 0); /* no affinity: every CPU hv uses */
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\ncpus = 2-3\n", p);
    CHECK_EQ_U64(p.cpus, 0xc);
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\ncpus = 0,2,5\n", p);
    CHECK_EQ_U64(p.cpus, 0x25);
    EXPECT_REFUSED("hello.elf", 0, NULL, "[guest hello.elf]\ncpus = 64\n",
                   "hv.cfg [guest hello.elf] cpus = 64: must be a list of CPU numbers 0 to 63", NULL);
    EXPECT_REFUSED("hello.elf", 0, NULL, "[guest hello.elf]\ncpus = 3-2\n", "cpus = 3-2:", "like 2-3");
    EXPECT_REFUSED("hello.elf", 0, NULL, "[guest hello.elf]\ncpus = two\n", "cpus = two:", "like 2-3");
}

static void weight_from_cfg(void)
{
    struct guest_params p;
    EXPECT_OK("hello.elf", 0, NULL, NULL, p);
    CHECK_EQ_U64(p.weight, GUEST_DEFAULT_WEIGHT);
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\nweight = 512\n", p);
    CHECK_EQ_U64(p.weight, 512);
    EXPECT_REFUSED("hello.elf", 0, NULL, "[guest hello.elf]\nweight = 0\n", "weight = 0:",
                   "between 1 and 65535");
    EXPECT_REFUSED("hello.elf", 0, NULL, "[guest hello.elf]\nweight = 65536\n", "weight",
                   "between 1 and 65535");
}

static void cfg_exact_messages(void)
{
    EXPECT_MESSAGE("hello.elf", 0, NULL, "[guest hello.elf]\nmemory = 0x10\n",
                   "hv.cfg [guest hello.elf] memory = 0x10: must be at least 256 KiB");
    EXPECT_MESSAGE("hello.elf", 0, NULL, "[guest hello.elf]\nfoo = 1\n",
                   "hv.cfg [guest hello.elf]: unknown key 'foo' (known: name, memory, "
                   "stack, vcpus, enabled, weight, cpus, sha256, on_exit, on_fault, max_restarts, monitor)");
    EXPECT_MESSAGE("hello.elf", 1 * MiB, NULL, "[guest hello.elf]\nvcpus = 2\nmemory = 1M\n",
                   "hv.cfg [guest hello.elf] memory = 1M: too small, needs at least 1168 KiB "
                   "(image 1 MiB + 2 x (64 KiB stack + 4 KiB guard) + 8 KiB start-info and shared pages)");
    /* Messages name the file as the caller spelled it. */
    EXPECT_MESSAGE("HELLO.ELF", 0, NULL, "[guest hello.elf]\nvcpus = 17\n",
                   "hv.cfg [guest HELLO.ELF] vcpus = 17: must be between 1 and 16 vCPUs");
}

static void cfg_refusals(void)
{
    const char *h = "[guest hello.elf]\n";
    char cfg[512];
#define REFUSED_CFG(body, p1, p2)                                 \
    do {                                                          \
        snprintf(cfg, sizeof(cfg), "%s%s", h, body);              \
        EXPECT_REFUSED("hello.elf", 0, NULL, cfg, p1, p2);        \
    } while (0)

    REFUSED_CFG("bogus = 1\n", "unknown key 'bogus'", NULL);
    REFUSED_CFG("Memory = 1M\n", "unknown key 'Memory'", NULL);
    REFUSED_CFG("memory = lots\n", "memory = lots:", "byte count");
    REFUSED_CFG("memory =\n", "memory = :", "byte count");
    REFUSED_CFG("memory = -1\n", "memory = -1:", NULL);
    REFUSED_CFG("memory = 1 M\n", "memory = 1 M:", NULL);
    REFUSED_CFG("memory = 99999999999999999999\n", "memory = 99999999999999999999:", NULL);
    REFUSED_CFG("memory = 20000000T\n", "memory = 20000000T:", "byte count");
    REFUSED_CFG("memory = 0\n", "memory = 0:", "at least 256 KiB");
    REFUSED_CFG("memory = 262143\n", "memory = 262143:", "at least 256 KiB");
    REFUSED_CFG("memory = 0x1000000001\n", "memory = 0x1000000001:", "at most 64 GiB");
    REFUSED_CFG("memory = 1T\n", "memory = 1T:", "at most 64 GiB");
    REFUSED_CFG("memory = 0xffffffffffffffff\n", "memory = 0xffffffffffffffff:",
                "at most 64 GiB");
    REFUSED_CFG("stack = 0\n", "stack = 0:", "at least 4 KiB");
    REFUSED_CFG("stack = 4095\n", "stack = 4095:", "at least 4 KiB");
    REFUSED_CFG("stack = 0x1000001\n", "stack = 0x1000001:", "at most 16 MiB");
    REFUSED_CFG("stack = 18446744073709551615\n", "stack = 18446744073709551615:",
                "at most 16 MiB");
    REFUSED_CFG("stack = big\n", "stack = big:", "byte count");
    REFUSED_CFG("vcpus = 0\n", "vcpus = 0:", "between 1 and 16");
    REFUSED_CFG("vcpus = 17\n", "vcpus = 17:", "between 1 and 16");
    REFUSED_CFG("vcpus = 1K\n", "vcpus = 1K:", "between 1 and 16");
    /* Would be 1 if truncated to 32 bits first. */
    REFUSED_CFG("vcpus = 4294967297\n", "vcpus = 4294967297:", "between 1 and 16");
    REFUSED_CFG("vcpus = two\n", "vcpus = two:", "must be a number");
    REFUSED_CFG("enabled = maybe\n", "enabled = maybe:", "yes or no");
    REFUSED_CFG("enabled =\n", "enabled = :", "yes or no");
    REFUSED_CFG("name =\n", "name = :", "1 to 31 characters");
    REFUSED_CFG("name = \"\"\n", "name = :", "1 to 31 characters");
    REFUSED_CFG("name = \"my guest\"\n", "name = my guest:", "1 to 31 characters");
    REFUSED_CFG("name = a/b\n", "name = a/b:", NULL);
    REFUSED_CFG("name = caf\xc3\xa9\n", "name = caf??:", NULL);
    REFUSED_CFG("name = 01234567890123456789012345678901\n",
                "name = 012345678901234567890123...:", "1 to 31 characters");
    /* A long bad value is quoted cut short. */
    REFUSED_CFG("memory = 0x0000000000000000000000000000000000000000010\n",
                "memory = 0x0000000000000000000000...:", "at least 256 KiB");
#undef REFUSED_CFG
}

static void cfg_boundaries_accepted(void)
{
    struct guest_params p;
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\nname = 0123456789012345678901234567890\n",
              p);
    CHECK_STR_EQ(p.name, "0123456789012345678901234567890");
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\nmemory = 256K\n", p);
    CHECK_EQ_U64(p.memory_bytes, 256 * KiB);
    /* Checked as given, then rounded: 256 KiB + 1 becomes 260 KiB. */
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\nmemory = 262145\n", p);
    CHECK_EQ_U64(p.memory_bytes, 260 * KiB);
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\nmemory = 64G\n", p);
    CHECK_EQ_U64(p.memory_bytes, 64 * GiB);
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\nmemory = 0x1000000000\n", p);
    CHECK_EQ_U64(p.memory_bytes, 64 * GiB);
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\nstack = 4K\n", p);
    CHECK_EQ_U64(p.stack_bytes, 4 * KiB);
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\nstack = 4097\n", p);
    CHECK_EQ_U64(p.stack_bytes, 8 * KiB);
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\nstack = 16M\n", p);
    CHECK_EQ_U64(p.stack_bytes, 16 * MiB);
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\nstack = 0xfff001\n", p);
    CHECK_EQ_U64(p.stack_bytes, 16 * MiB);
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\nvcpus = 1\n", p);
    CHECK_EQ_U64(p.vcpus, 1);
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\nvcpus = 0x10\n", p);
    CHECK_EQ_U64(p.vcpus, 16);
    static const char *const truthy[] = {"yes", "YES", "1", "true", "On"};
    static const char *const falsy[] = {"no", "0", "False", "off"};
    char cfg[64];
    for (size_t i = 0; i < 5; i++) {
        snprintf(cfg, sizeof(cfg), "[guest hello.elf]\nenabled = no\nenabled = %s\n", truthy[i]);
        EXPECT_OK("hello.elf", 0, NULL, cfg, p);
        CHECK(p.enabled);
    }
    for (size_t i = 0; i < 4; i++) {
        snprintf(cfg, sizeof(cfg), "[guest hello.elf]\nenabled = %s\n", falsy[i]);
        EXPECT_OK("hello.elf", 0, NULL, cfg, p);
        CHECK(!p.enabled);
    }
}

static void memory_must_hold_image_stacks_and_start_info(void)
{
    struct guest_params p;
    /* need = 1 MiB + 2 x 68 KiB + 8 KiB = 1168 KiB */
    const char *h = "[guest hello.elf]\nvcpus = 2\n";
    char cfg[128];
    snprintf(cfg, sizeof(cfg), "%smemory = 1168K\n", h);
    EXPECT_OK("hello.elf", 1 * MiB, NULL, cfg, p);
    CHECK_EQ_U64(p.memory_bytes, 1168 * KiB);
    /* Rounded up first, so one byte short of a page still fits. */
    snprintf(cfg, sizeof(cfg), "%smemory = %llu\n", h, 1168 * KiB - 1);
    EXPECT_OK("hello.elf", 1 * MiB, NULL, cfg, p);
    CHECK_EQ_U64(p.memory_bytes, 1168 * KiB);
    snprintf(cfg, sizeof(cfg), "%smemory = 1164K\n", h);
    EXPECT_REFUSED("hello.elf", 1 * MiB, NULL, cfg, "memory = 1164K:", "needs at least 1168 KiB");
    /* An image of 1 MiB + 1 byte needs one more page. */
    snprintf(cfg, sizeof(cfg), "%smemory = 1168K\n", h);
    EXPECT_REFUSED("hello.elf", 1 * MiB + 1, NULL, cfg, "needs at least 1172 KiB",
                   "image 0x100001 bytes");
    /* 16 vCPUs with 16 MiB stacks: 16 x (16 MiB + 4 KiB) + 8 KiB. */
    EXPECT_REFUSED("hello.elf", 0, NULL,
                   "[guest hello.elf]\nvcpus = 16\nstack = 16M\nmemory = 256M\n",
                   "needs at least 262216 KiB", "16 x (16 MiB stack");
    EXPECT_OK("hello.elf", 0, NULL,
              "[guest hello.elf]\nvcpus = 16\nstack = 16M\nmemory = 262216K\n", p);
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\nvcpus = 16\nstack = 16M\n", p);
    CHECK_EQ_U64(p.memory_bytes, 16 * (16 * MiB + 4 * KiB) + 1 * MiB);
}

static void huge_images_do_not_wrap(void)
{
    static const uint64_t spans[] = {
        UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 4095, UINT64_MAX - 4096,
        UINT64_MAX - 72 * KiB, UINT64_MAX - 72 * KiB + 1, UINT64_MAX - 1 * MiB,
        UINT64_MAX - 2 * MiB, 1ULL << 63, 64 * GiB, 64 * GiB + 1,
    };
    struct hv_image_note n = make_note(16, 0, 16 * MiB, NULL);
    for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]); i++) {
        EXPECT_REFUSED("hello.elf", spans[i], NULL, NULL, "64 GiB", NULL);
        EXPECT_REFUSED("hello.elf", spans[i], &n, NULL, "64 GiB", NULL);
        EXPECT_REFUSED("hello.elf", spans[i], NULL, "[guest hello.elf]\nmemory = 64G\n",
                       "64 GiB", NULL);
        EXPECT_REFUSED("hello.elf", spans[i], NULL, "[guest hello.elf]\nmemory = 4M\n",
                       "64 GiB", NULL);
    }
    EXPECT_MESSAGE("hello.elf", UINT64_MAX, NULL, NULL,
                   "image of 0xffffffffffffffff bytes with 1 x (64 KiB stack + 4 KiB guard) "
                   "and the 8 KiB start-info and shared pages needs more than the 64 GiB memory limit");
}


/* ---- guest_params_unknown_sections ---- */

struct reports {
    char text[512];
    size_t len;
};

static void record_report(void *arg, const char *section_arg)
{
    struct reports *r = arg;
    int n = snprintf(r->text + r->len, sizeof(r->text) - r->len, "%s|", section_arg);
    CHECK(n > 0 && (size_t)n < sizeof(r->text) - r->len);
    r->len += (size_t)n;
}

static int unknown(const char *cfg, const char *const *files, size_t n, struct reports *r)
{
    size_t len = strlen(cfg);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, cfg, len);
    memset(r, 0, sizeof(*r));
    int count = guest_params_unknown_sections(copy, len, files, n, record_report, r);
    free(copy);
    return count;
}

static void unknown_sections_are_reported(void)
{
    static const char *const files[] = {"hello.elf", NULL, "World.ELF"};
    struct reports r;
    int count = unknown("[hv]\nlog_level = info\n"
                        "[guest hello.elf]\nvcpus = 2\nstack = 8K\n"
                        "[guest foo]\nvcpus = 1\nmemory = 1M\n"
                        "[guest HELLO.ELF]\nvcpus = 2\n"
                        "[guest world.elf]\nvcpus = 2\n"
                        "[guest hello]\nvcpus = 2\n"
                        "[guest]\nvcpus = 2\n"
                        "[other hello.elf2]\nx = 1\n",
                        files, 3, &r);
    CHECK_EQ_U64(count, 3);
    CHECK_STR_EQ(r.text, "foo|hello||");
}

static void unknown_sections_runs_and_empty_sections(void)
{
    static const char *const files[] = {"hello.elf"};
    struct reports r;
    /* A section without keys is invisible; consecutive keys count once. */
    CHECK_EQ_U64(unknown("[guest empty]\n[guest foo]\na = 1\nb = 2\n", files, 1, &r), 1);
    CHECK_STR_EQ(r.text, "foo|");
    CHECK_EQ_U64(unknown("[guest foo]\na = 1\n[guest bar]\na = 1\n[guest foo]\na = 1\n", files,
                         1, &r),
                 3);
    CHECK_STR_EQ(r.text, "foo|bar|foo|");
    CHECK_EQ_U64(unknown("[guest foo]\na = 1\n[hv]\na = 1\n[guest foo]\na = 1\n", files, 1, &r),
                 2);
    CHECK_STR_EQ(r.text, "foo|foo|");
    /* A known section between two unknown ones splits the run. */
    CHECK_EQ_U64(unknown("[guest foo]\na = 1\n[guest hello.elf]\na = 1\n[guest foo]\na = 1\n",
                         files, 1, &r),
                 2);
    CHECK_EQ_U64(unknown("", files, 1, &r), 0);
    CHECK_STR_EQ(r.text, "");
}

static void unknown_sections_stop_at_syntax_errors(void)
{
    static const char *const files[] = {"hello.elf"};
    struct reports r;
    CHECK_EQ_U64(unknown("[guest foo]\na = 1\n[guest bar\n[guest baz]\na = 1\n", files, 1, &r),
                 1);
    CHECK_STR_EQ(r.text, "foo|");
    CHECK_EQ_U64(unknown("oops\n[guest foo]\na = 1\n", files, 1, &r), 0);
}

static void unknown_sections_argument_edges(void)
{
    struct reports r;
    static const char cfg[] = "[guest foo]\na = 1\n[guest bar]\na = 1\n";
    /* No file list: every guest section is unknown. */
    CHECK_EQ_U64(unknown(cfg, NULL, 0, &r), 2);
    CHECK_EQ_U64(unknown(cfg, NULL, 5, &r), 2);
    CHECK_STR_EQ(r.text, "foo|bar|");
    /* Counting only. */
    CHECK_EQ_U64(guest_params_unknown_sections(cfg, sizeof(cfg) - 1, NULL, 0, NULL, NULL), 2);
    CHECK_EQ_U64(guest_params_unknown_sections(NULL, 0, NULL, 0, NULL, NULL), 0);
    CHECK_EQ_U64(guest_params_unknown_sections(NULL, 10, NULL, 0, NULL, NULL), 0);
    /* Only the first n names count. */
    static const char *const files[] = {"bar", "foo"};
    CHECK_EQ_U64(unknown(cfg, files, 1, &r), 1);
    CHECK_STR_EQ(r.text, "foo|");
    CHECK_EQ_U64(unknown(cfg, files, 2, &r), 0);
    /* A 63-character argument, the tokenizer's longest. */
    char long_cfg[256];
    snprintf(long_cfg, sizeof(long_cfg), "[guest %s]\na = 1\n[guest %s]\nb = 2\n",
             "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk",
             "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk");
    CHECK_EQ_U64(unknown(long_cfg, NULL, 0, &r), 1);
}

/* The restart policy: defaults, every value, and what is refused. */
static void restart_policy_keys(void)
{
    struct guest_params p;
    EXPECT_OK("hello.elf", 0, NULL, NULL, p);
    CHECK_EQ_U64(p.policy.on_exit, GUEST_ACTION_STOP);
    CHECK_EQ_U64(p.policy.on_fault, GUEST_ACTION_STOP);
    CHECK_EQ_U64(p.policy.max_restarts, GUEST_DEFAULT_MAX_RESTARTS);
    CHECK_EQ_U64(p.policy.window_ms, GUEST_DEFAULT_RESTART_WINDOW_MS);
    CHECK(!p.policy.monitor);
    CHECK_EQ_U64(p.policy_cfg_keys, 0);
    /* The keys hv.cfg set are recorded: they win over the image's note. */
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\non_fault = stop\n", p);
    CHECK_EQ_U64(p.policy_cfg_keys, GUEST_POLICY_CFG_ON_FAULT);
    EXPECT_OK("hello.elf", 0, NULL,
              "[guest hello.elf]\non_exit = restart\non_fault = halt\nmax_restarts = 3 within 2m\n"
              "monitor = yes\n", p);
    CHECK_EQ_U64(p.policy_cfg_keys, GUEST_POLICY_CFG_ON_EXIT | GUEST_POLICY_CFG_ON_FAULT |
                                        GUEST_POLICY_CFG_MAX_RESTARTS);
    CHECK_EQ_U64(p.policy.on_exit, GUEST_ACTION_RESTART);
    CHECK_EQ_U64(p.policy.on_fault, GUEST_ACTION_HALT);
    CHECK_EQ_U64(p.policy.max_restarts, 3);
    CHECK_EQ_U64(p.policy.window_ms, 120000);
    CHECK(p.policy.monitor);
    EXPECT_OK("hello.elf", 0, NULL, "[guest hello.elf]\nmax_restarts = 0\n", p);
    CHECK_EQ_U64(p.policy.max_restarts, 0);
    CHECK_EQ_U64(p.policy.window_ms, 0);
    EXPECT_REFUSED("hello.elf", 0, NULL, "[guest hello.elf]\non_exit = reboot\n", "on_exit",
                   "stop, restart or halt");
    EXPECT_REFUSED("hello.elf", 0, NULL, "[guest hello.elf]\non_fault = Restart\n", "on_fault",
                   "stop, restart or halt");
    EXPECT_REFUSED("hello.elf", 0, NULL, "[guest hello.elf]\nmax_restarts = 65\n",
                   "max_restarts", "at most 64");
    EXPECT_REFUSED("hello.elf", 0, NULL, "[guest hello.elf]\nmax_restarts = 3 within 0s\n",
                   "max_restarts", "N within T");
    EXPECT_REFUSED("hello.elf", 0, NULL, "[guest hello.elf]\nmonitor = maybe\n", "monitor",
                   "yes or no");
}

int main(void)
{
    check_suite = "guest_params_cfg";
    RUN_TEST(cfg_overrides_note);
    RUN_TEST(cfg_overrides_defaults);
    RUN_TEST(validation_is_after_merging);
    RUN_TEST(section_match_ignores_case_but_nothing_else);
    RUN_TEST(other_sections_may_hold_anything);
    RUN_TEST(file_name_that_no_section_can_name);
    RUN_TEST(cfg_exact_messages);
    RUN_TEST(weight_from_cfg);
    RUN_TEST(cpus_from_cfg);
    RUN_TEST(cfg_refusals);
    RUN_TEST(cfg_boundaries_accepted);
    RUN_TEST(memory_must_hold_image_stacks_and_start_info);
    RUN_TEST(huge_images_do_not_wrap);
    RUN_TEST(unknown_sections_are_reported);
    RUN_TEST(sha256_key_is_accepted_and_changes_nothing);
    RUN_TEST(unknown_sections_runs_and_empty_sections);
    RUN_TEST(unknown_sections_stop_at_syntax_errors);
    RUN_TEST(unknown_sections_argument_edges);
    RUN_TEST(restart_policy_keys);
    return check_finish();
}
