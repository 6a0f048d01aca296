/* guest-loader/image_policy: the policy file's lines, hv.cfg's sha256 pins
 * and the decision (pin, then policy) with its exact messages. Texts are
 * exact-size heap copies, so ASan sees any read past their end. */
#include "guest-loader/image_policy.h"

#include "tests/unit/check.h"

#define ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char why[256];

struct collected {
    int n;
    uint8_t hash[8][SHA256_BYTES];
    char name[8][IMAGE_POLICY_NAME_MAX + 1];
};

static void collect(void *arg, const uint8_t hash[SHA256_BYTES], const char *name)
{
    struct collected *c = arg;
    if (c->n < 8) {
        memcpy(c->hash[c->n], hash, SHA256_BYTES);
        strcpy(c->name[c->n], name);
    }
    c->n++;
}

static int parse(const char *text, struct collected *c, unsigned *bad_line)
{
    size_t len = strlen(text);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, text, len);
    memset(c, 0, sizeof(*c));
    memset(why, 0x55, sizeof(why));
    *bad_line = 0;
    int r = image_policy_parse(copy, len, collect, c, bad_line, why, sizeof(why));
    CHECK(memchr(why, '\0', sizeof(why)) != NULL);
    free(copy);
    return r;
}

static void digest_of(const char *msg, uint8_t d[SHA256_BYTES])
{
    sha256(msg, strlen(msg), d);
}

static void policy_lines_with_and_without_names(void)
{
    struct collected c;
    unsigned bad;
    uint8_t abc[SHA256_BYTES], empty[SHA256_BYTES];
    digest_of("abc", abc);
    digest_of("", empty);
    int r = parse("# allowed guests\n"
                  "\n"
                  "   \t\n"
                  ABC " hello\n"
                  "  " EMPTY "\r\n"                         /* no name, CRLF */
                  "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD  *images/x y\n"
                  EMPTY "\timages/consumer  \t",           /* sha256sum text mode, no LF */
                  &c, &bad);
    CHECK_EQ_U64(r, 4);
    CHECK_EQ_U64(c.n, 4);
    CHECK(memcmp(c.hash[0], abc, SHA256_BYTES) == 0);
    CHECK_STR_EQ(c.name[0], "hello");
    CHECK(memcmp(c.hash[1], empty, SHA256_BYTES) == 0);
    CHECK_STR_EQ(c.name[1], "");
    CHECK(memcmp(c.hash[2], abc, SHA256_BYTES) == 0);
    CHECK_STR_EQ(c.name[2], "images/x y");
    CHECK(memcmp(c.hash[3], empty, SHA256_BYTES) == 0);
    CHECK_STR_EQ(c.name[3], "images/consumer");
    CHECK_STR_EQ(why, "");

    CHECK_EQ_U64(parse("", &c, &bad), 0);
    CHECK_EQ_U64(parse("# nothing\n\n", &c, &bad), 0);
    CHECK_EQ_U64(c.n, 0);
}

static void policy_name_at_the_length_limit(void)
{
    char text[200], name[IMAGE_POLICY_NAME_MAX + 2];
    memset(name, 'n', sizeof(name));
    name[IMAGE_POLICY_NAME_MAX] = '\0';
    snprintf(text, sizeof(text), ABC " %s\n", name);
    struct collected c;
    unsigned bad;
    CHECK_EQ_U64(parse(text, &c, &bad), 1);
    CHECK_STR_EQ(c.name[0], name);

    name[IMAGE_POLICY_NAME_MAX] = 'n';
    name[IMAGE_POLICY_NAME_MAX + 1] = '\0';
    snprintf(text, sizeof(text), ABC " %s\n", name);
    CHECK(parse(text, &c, &bad) == -1);
    CHECK_EQ_U64(bad, 1);
    CHECK_STR_EQ(why, "the name is longer than 63 characters");
    CHECK_EQ_U64(c.n, 0);
}

static void policy_refusals_name_the_line(void)
{
    struct collected c;
    unsigned bad;
    /* One digit short, on line 3 after a good line. */
    CHECK(parse("# x\n" ABC "\n" "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a\n",
                &c, &bad) == -1);
    CHECK_EQ_U64(bad, 3);
    CHECK_STR_EQ(why, "expected a SHA-256 of 64 hex digits, found 63 characters");
    CHECK_EQ_U64(c.n, 1);       /* what came before was added */

    CHECK(parse(ABC "0 name\n", &c, &bad) == -1);
    CHECK_STR_EQ(why, "expected a SHA-256 of 64 hex digits, found 65 characters");
    CHECK(parse("ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n", &c, &bad) == -1);
    CHECK_STR_EQ(why, "expected a SHA-256 of 64 hex digits, found 64 characters that are not all hex");
    CHECK(parse("hello " ABC "\n", &c, &bad) == -1);
    CHECK_EQ_U64(bad, 1);
    CHECK(parse("\n\n" ABC " bad\033[2Jname\n", &c, &bad) == -1);
    CHECK_EQ_U64(bad, 3);
    CHECK_STR_EQ(why, "the name has a byte that is not printable ASCII (0x1b)");
    CHECK(parse(ABC " caf\xc3\xa9\n", &c, &bad) == -1);
    CHECK_STR_EQ(why, "the name has a byte that is not printable ASCII (0xc3)");
}

static int cfg_read(const char *file, const char *cfg, struct image_cfg *out)
{
    size_t len = strlen(cfg);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, cfg, len);
    memset(out, 0x55, sizeof(*out));
    memset(why, 0x55, sizeof(why));
    int r = image_cfg_read(file, copy, len, out, why, sizeof(why));
    CHECK(memchr(why, '\0', sizeof(why)) != NULL);
    free(copy);
    return r;
}

static void cfg_pins_per_file(void)
{
    struct image_cfg ic;
    uint8_t abc[SHA256_BYTES], empty[SHA256_BYTES];
    digest_of("abc", abc);
    digest_of("", empty);

    CHECK_EQ_U64(cfg_read("hello.elf", "", &ic), 0);
    CHECK(!ic.pinned && ic.enabled);

    const char *cfg = "[hv]\nlog_level = info\n"
                      "[guest other.elf]\nsha256 = " EMPTY "\nenabled = no\n"
                      "[guest HELLO.ELF]\nsha256 = " EMPTY "\n"
                      "[guest hello.elf]\nsha256 = " ABC "\n";
    CHECK_EQ_U64(cfg_read("hello.elf", cfg, &ic), 0);
    CHECK(ic.pinned && ic.enabled);
    CHECK(memcmp(ic.pin, abc, SHA256_BYTES) == 0);      /* the last one wins */
    CHECK_EQ_U64(cfg_read("other.elf", cfg, &ic), 0);
    CHECK(ic.pinned && !ic.enabled);
    CHECK(memcmp(ic.pin, empty, SHA256_BYTES) == 0);
    CHECK_EQ_U64(cfg_read("third.elf", cfg, &ic), 0);
    CHECK(!ic.pinned && ic.enabled);

    /* A malformed enabled is guest_params' to refuse: it counts as on. */
    CHECK_EQ_U64(cfg_read("a", "[guest a]\nenabled = maybe\n", &ic), 0);
    CHECK(ic.enabled);
    /* Parsing stops at a syntax error; what came before counts. */
    CHECK_EQ_U64(cfg_read("a", "[guest a]\nsha256 = " ABC "\n[broken\nenabled = no\n", &ic), 0);
    CHECK(ic.pinned && ic.enabled);
}

static void cfg_malformed_pins_are_refused(void)
{
    struct image_cfg ic;
    CHECK(cfg_read("hello.elf", "[guest hello.elf]\nsha256 = abc\n", &ic) == -1);
    CHECK_STR_EQ(why, "hv.cfg [guest hello.elf] sha256: must be 64 hex digits (3 characters given)");
    CHECK(cfg_read("hello.elf", "[guest hello.elf]\nsha256 =\n", &ic) == -1);
    CHECK_STR_EQ(why, "hv.cfg [guest hello.elf] sha256: must be 64 hex digits (0 characters given)");
    CHECK(cfg_read("h", "[guest h]\nsha256 = \"" ABC " \"\n", &ic) == -1);
    CHECK(cfg_read("h", "[guest h]\nsha256 = " EMPTY "\nsha256 = x" ABC "\n", &ic) == -1);
    /* Another guest's bad pin is not this one's problem. */
    CHECK_EQ_U64(cfg_read("h", "[guest g]\nsha256 = x\n", &ic), 0);
}

static void decision_pin_then_policy(void)
{
    uint8_t abc[SHA256_BYTES], empty[SHA256_BYTES], other[SHA256_BYTES];
    digest_of("abc", abc);
    digest_of("", empty);
    digest_of("other", other);
    struct image_policy_entry entries[2];
    memset(entries, 0, sizeof(entries));
    memcpy(entries[0].sha256, empty, SHA256_BYTES);
    memcpy(entries[1].sha256, abc, SHA256_BYTES);
    strcpy(entries[1].name, "abc-guest");
    const struct image_policy none = {.active = false}, policy = {true, 2, entries};
    const struct image_policy_entry *m;

    struct image_cfg unpinned = {.enabled = true}, pinned_abc = {.pinned = true, .enabled = true};
    memcpy(pinned_abc.pin, abc, SHA256_BYTES);

    /* No pin, no policy: anything runs. */
    CHECK(image_policy_allows(&none, &unpinned, "x.elf", other, &m, why, sizeof(why)));
    CHECK(m == NULL);
    CHECK_STR_EQ(why, "");
    /* A pin that matches, and one that does not: both hashes named. */
    CHECK(image_policy_allows(&none, &pinned_abc, "x.elf", abc, &m, why, sizeof(why)));
    CHECK(!image_policy_allows(&none, &pinned_abc, "x.elf", empty, &m, why, sizeof(why)));
    CHECK_STR_EQ(why, "sha256 " EMPTY " differs from " ABC ", pinned by hv.cfg [guest x.elf]");
    /* The policy lists it: allowed, with its entry. */
    CHECK(image_policy_allows(&policy, &unpinned, "x.elf", abc, &m, why, sizeof(why)));
    CHECK(m == &entries[1]);
    CHECK(image_policy_allows(&policy, &unpinned, "x.elf", empty, &m, why, sizeof(why)));
    CHECK(m == &entries[0]);
    /* Not listed: refused, whatever hv.cfg says (no pin can widen it). */
    CHECK(!image_policy_allows(&policy, &unpinned, "x.elf", other, &m, why, sizeof(why)));
    CHECK(m == NULL);
    uint8_t other_hex_src[SHA256_BYTES];
    memcpy(other_hex_src, other, SHA256_BYTES);
    char other_hex[SHA256_HEX_CHARS + 1], want[200];
    sha256_to_hex(other_hex_src, other_hex);
    snprintf(want, sizeof(want), "sha256 %s is not in the image policy built into hv (2 hashes)",
             other_hex);
    CHECK_STR_EQ(why, want);
    struct image_cfg pinned_other = {.pinned = true, .enabled = true};
    memcpy(pinned_other.pin, other, SHA256_BYTES);
    CHECK(!image_policy_allows(&policy, &pinned_other, "x.elf", other, &m, why, sizeof(why)));
    /* Listed, but pinned to something else: the pin still refuses it. */
    CHECK(!image_policy_allows(&policy, &pinned_abc, "x.elf", empty, &m, why, sizeof(why)));
    CHECK(strstr(why, "pinned by hv.cfg") != NULL);
    /* An active policy of one hash says "1 hash". */
    const struct image_policy one = {true, 1, entries};
    CHECK(!image_policy_allows(&one, &unpinned, "x.elf", abc, &m, why, sizeof(why)));
    CHECK(strstr(why, "(1 hash)") != NULL);
    /* A short why buffer is cut, never overrun. */
    char small[8];
    CHECK(!image_policy_allows(&one, &unpinned, "x.elf", abc, &m, small, sizeof(small)));
    CHECK_STR_EQ(small, "sha256 ");
    CHECK(!image_policy_allows(&one, &unpinned, "x.elf", abc, &m, NULL, 0));
}

int main(void)
{
    check_suite = "image_policy";
    RUN_TEST(policy_lines_with_and_without_names);
    RUN_TEST(policy_name_at_the_length_limit);
    RUN_TEST(policy_refusals_name_the_line);
    RUN_TEST(cfg_pins_per_file);
    RUN_TEST(cfg_malformed_pins_are_refused);
    RUN_TEST(decision_pin_then_policy);
    return check_finish();
}
