/* hv/config: the hv.cfg tokenizer, case by case (the fuzzed input and the
 * value helpers are test_config_values.c; the shared handler and judgements
 * config_fixture.h). */
#include "tests/unit/config_fixture.h"

static void example_file(void)
{
    PARSES_TO("# hv.cfg\n"
              "; written by the QEMU runner\n"
              "\n"
              "[hv]\n"
              "log_level = debug\n"
              "qemu_exit_port = 0xf4\n"
              "[guest hello]        # section with an argument\n"
              "memory = 16M\n",
              "hv||log_level=debug\n"
              "hv||qemu_exit_port=0xf4\n"
              "guest|hello|memory=16M\n");
}

static void sections_and_arguments(void)
{
    PARSES_TO("top = 1\n[a]\nk = 2\n", "||top=1\na||k=2\n");
    PARSES_TO("[guest g-1.x_Y]\nk=v\n[other]\nk=w\n", "guest|g-1.x_Y|k=v\nother||k=w\n");
    PARSES_TO("[ guest \t name ]\nk=v\n", "guest|name|k=v\n");
    PARSES_TO("  [hv]  \nk=v\n", "hv||k=v\n");
    PARSES_TO("[hv]# comment\nk=v\n[x];c\nk=w\n", "hv||k=v\nx||k=w\n");
    PARSES_TO("[guest ]\nk=v\n", "guest||k=v\n");
    PARSES_TO("[A_9]\n[b]\n", "");
    PARSES_TO("[" NAME63
              " " ARG63 "]\n"
              "k=v\n",
              NAME63 "|" ARG63 "|k=v\n");
}

static void comments_and_blank_lines(void)
{
    PARSES_TO("", "");
    PARSES_TO("\n\n\n", "");
    PARSES_TO("   \n\t\n", "");
    PARSES_TO("# a\n; b\n   # indented\n\t; tabbed\n", "");
    PARSES_TO("#[not a section]\n;k = v\n", "");
    PARSES_TO("# comment with \xc3\xa9 utf-8 and = signs\n", "");
}

static void values(void)
{
    PARSES_TO("k = v\n", "||k=v\n");
    PARSES_TO("k=v\n", "||k=v\n");
    PARSES_TO("  k \t=\t  v  \t\n", "||k=v\n");
    PARSES_TO("k = a b  c\n", "||k=a b  c\n");
    PARSES_TO("k = v # comment\n", "||k=v\n");
    PARSES_TO("k = v\t# comment\n", "||k=v\n");
    PARSES_TO("k = a#b\n", "||k=a#b\n");
    PARSES_TO("k =#x\n", "||k=#x\n");
    PARSES_TO("k = # only a comment\n", "||k=\n");
    PARSES_TO("k = a;b ; c\n", "||k=a;b ; c\n");
    PARSES_TO("k =\n", "||k=\n");
    PARSES_TO("k =   \n", "||k=\n");
    PARSES_TO("k = a = b\n", "||k=a = b\n");
    PARSES_TO("k = \xc3\xa9t\xc3\xa9\n", "||k=\xc3\xa9t\xc3\xa9\n");
    PARSES_TO("k = a\"b\"\n", "||k=a\"b\"\n");
    PARSES_TO("K_9 = 1\n", "||K_9=1\n");
}

static void quoted_values(void)
{
    PARSES_TO("k = \"a # b\"\n", "||k=a # b\n");
    PARSES_TO("k = \"  padded  \"\n", "||k=  padded  \n");
    PARSES_TO("k = \"\"\n", "||k=\n");
    PARSES_TO("k = \"x\"   # comment\n", "||k=x\n");
    PARSES_TO("k = \"x\"#comment\n", "||k=x\n");
    PARSES_TO("k = \"x\"  \n", "||k=x\n");
    PARSES_TO("k=\"a;b=c[d]\"\n", "||k=a;b=c[d]\n");
}

static void line_endings_and_bom(void)
{
    PARSES_TO("[hv]\r\nk = v\r\nq = \"x\"\r\n", "hv||k=v\nhv||q=x\n");
    PARSES_TO("[hv]\nk = v\r\nq = w", "hv||k=v\nhv||q=w\n");
    PARSES_TO("k = v\r", "||k=v\n");
    PARSES_TO("k = last line without newline", "||k=last line without newline\n");
    PARSES_TO("\xef\xbb\xbf[hv]\nk = v\n", "hv||k=v\n");
    PARSES_TO("\xef\xbb\xbf", "");
    PARSES_TO("\xef\xbb\xbfk=v", "||k=v\n");
    /* Only the very first bytes may be a BOM. */
    FAILS("\n\xef\xbb\xbfk = v\n", 2, "invalid character in key");
    FAILS("\xef\xbb\xbf\xef\xbb\xbfk = v\n", 1, "invalid character in key");
    FAILS("\xef\xbbk = v\n", 1, "invalid character in key");
    /* A bare CR elsewhere is a control character. */
    FAILS("k = a\rb\n", 1, "control character");
    FAILS("k = v\r\r\n", 1, "control character");
    FAILS("k = v\n\r\n\rx = 1\n", 3, "control character");
}

static void length_is_respected(void)
{
    const char text[] = "a = 1\nb = 2\nc = 3\n";
    struct log log = {0};
    CHECK_EQ_U64(parse_text(text, 9, &log, NULL), 0);   /* ends in "b =" */
    CHECK_STR_EQ(log.text, "||a=1\n||b=\n");
    struct log empty = {0};
    CHECK_EQ_U64(parse_text(text, 0, &empty, NULL), 0);
    CHECK_EQ_U64(empty.calls, 0);
    struct log cut = {0};
    CHECK_EQ_U64(parse_text("[hv]", 3, &cut, NULL), -1);   /* "[hv" */
}

static void null_text_and_null_outputs(void)
{
    struct cfg_error err;
    CHECK_EQ_U64(cfg_parse(NULL, 0, record, NULL, &err), 0);
    CHECK_EQ_U64(cfg_parse(NULL, 5, record, NULL, &err), -1);
    CHECK_STR_EQ(err.reason, "no text");
    /* No handler: syntax check only. No err: still reports failure. */
    CHECK_EQ_U64(cfg_parse("[hv]\nk = v\n", 11, NULL, NULL, NULL), 0);
    CHECK_EQ_U64(cfg_parse("[hv\n", 4, NULL, NULL, NULL), -1);
    CHECK_EQ_U64(cfg_parse("k\n", 2, record, NULL, NULL), -1);
}

static void success_clears_error(void)
{
    struct cfg_error err;
    memset(&err, 0x7a, sizeof(err));
    struct log log = {0};
    CHECK_EQ_U64(cfg_parse("k=v\n", 4, record, &log, &err), 0);
    CHECK_EQ_U64(err.line, 0);
    CHECK_STR_EQ(err.reason, "");
}

static void nul_and_control_bytes(void)
{
    FAILS("k = a\0b\n", 1, "NUL byte");
    FAILS("[hv]\n# comment \0 here\n", 2, "NUL byte");
    FAILS("k = v\n\0", 2, "NUL byte");
    FAILS("\0", 1, "NUL byte");
    FAILS("k = \x01\n", 1, "control character");
    FAILS("k = \x1b[0m\n", 1, "control character");
    FAILS("# \x7f\n", 1, "control character");
    FAILS("k = v\f\n", 1, "control character");
    PARSES_TO("k =\tv\t\n", "||k=v\n");
    PARSES_TO("k = \x80\xff\n", "||k=\x80\xff\n");
}

static void overlong_lines(void)
{
    char text[600];
    struct log log;
    struct cfg_error err;

    /* 255 characters is the limit, not counting LF or CRLF. */
    memset(text, 'v', sizeof(text));
    memcpy(text, "k = ", 4);
    text[255] = '\n';
    log = (struct log){0};
    CHECK_EQ_U64(parse_text(text, 256, &log, &err), 0);
    CHECK_EQ_U64(log.calls, 1);
    text[255] = '\r';
    text[256] = '\n';
    log = (struct log){0};
    CHECK_EQ_U64(parse_text(text, 257, &log, &err), 0);
    /* Also without a final line ending. */
    CHECK_EQ_U64(parse_text(text, 255, &log, &err), 0);

    text[255] = 'v';
    text[256] = '\n';
    CHECK_EQ_U64(parse_text(text, 257, &log, &err), -1);
    CHECK_EQ_U64(err.line, 1);
    CHECK_STR_EQ(err.reason, "line too long");
    CHECK_EQ_U64(parse_text(text, 256, &log, &err), -1);
    CHECK_STR_EQ(err.reason, "line too long");

    /* Comments and blank-looking lines count too. */
    memset(text, ' ', sizeof(text));
    memcpy(text, "[hv]\n#", 6);
    text[sizeof(text) - 1] = '\n';
    CHECK_EQ_U64(parse_text(text, sizeof(text), &log, &err), -1);
    CHECK_EQ_U64(err.line, 2);
    CHECK_STR_EQ(err.reason, "line too long");
}

static void malformed_section_headers(void)
{
    FAILS("[\n", 1, "missing ']' in section header");
    FAILS("[hv\n", 1, "missing ']' in section header");
    FAILS("[hv ", 1, "missing ']' in section header");
    FAILS("[guest a\n", 1, "missing ']' in section header");
    FAILS("[guest a \n", 1, "missing ']' in section header");
    FAILS("[]\n", 1, "empty section name");
    FAILS("[ \t ]\n", 1, "empty section name");
    FAILS("[h!v]\n", 1, "invalid character in section name");
    FAILS("[=]\n", 1, "invalid character in section name");
    FAILS("[[hv]]\n", 1, "invalid character in section name");
    FAILS("[.hv]\n", 1, "invalid character in section name");
    FAILS("[h.v]\n", 1, "invalid character in section name");
    FAILS("[hv]]\n", 1, "unexpected text after section header");
    FAILS("[hv] junk\n", 1, "unexpected text after section header");
    FAILS("[hv]x\n", 1, "unexpected text after section header");
    FAILS("[hv] = 1\n", 1, "unexpected text after section header");
    FAILS("[guest a b]\n", 1, "more than one section argument");
    FAILS("[guest a\tb]\n", 1, "more than one section argument");
    FAILS("[guest a/b]\n", 1, "invalid character in section argument");
    FAILS("[guest a,b]\n", 1, "invalid character in section argument");
    FAILS("[guest \"a\"]\n", 1, "invalid character in section argument");
    FAILS("[guest a ]x]\n", 1, "unexpected text after section header");
    FAILS("[guest a !]\n", 1, "invalid character in section argument");
    FAILS("[guest \xc3\xa9]\n", 1, "invalid character in section argument");
    FAILS("[hv]\nk=v\n\n[bad\n", 4, "missing ']' in section header");
    /* 64 characters is one too many for names and arguments. */
    FAILS("[" NAME64 "]\n", 1,
          "section name too long");
    FAILS("[g " ARG64 "]\n", 1,
          "section argument too long");
}

static void malformed_assignments(void)
{
    FAILS("k\n", 1, "missing '=' after key");
    FAILS("k  \n", 1, "missing '=' after key");
    FAILS("key value\n", 1, "missing '=' after key");
    FAILS("my key = v\n", 1, "missing '=' after key");
    FAILS("k : v\n", 1, "missing '=' after key");
    FAILS("= v\n", 1, "empty key");
    FAILS("  =v\n", 1, "empty key");
    FAILS("=\n", 1, "empty key");
    FAILS("ke-y = v\n", 1, "invalid character in key");
    FAILS("k.y = v\n", 1, "invalid character in key");
    FAILS("k:v\n", 1, "invalid character in key");
    FAILS("!k = v\n", 1, "invalid character in key");
    FAILS("\"k\" = v\n", 1, "invalid character in key");
    FAILS("\xc3\xa9 = v\n", 1, "invalid character in key");
    FAILS("]\n", 1, "invalid character in key");
    FAILS("k = \"abc\n", 1, "unterminated quoted value");
    FAILS("k = \"\n", 1, "unterminated quoted value");
    FAILS("k = \"a\" b\n", 1, "unexpected text after quoted value");
    FAILS("k = \"a\"b\n", 1, "unexpected text after quoted value");
    FAILS("k = \"a\" ; c\n", 1, "unexpected text after quoted value");
    FAILS("k = \"a\"\"b\"\n", 1, "unexpected text after quoted value");
    FAILS(NAME64 " = v\n", 1,
          "key too long");
    PARSES_TO(NAME63 " = v\n", "||" NAME63 "=v\n");
}

static void errors_stop_the_parse_and_name_the_line(void)
{
    struct log log = {0};
    struct cfg_error err;
    const char text[] = "a = 1\r\n\r\n# c\r\nb = 2\r\nbad line\r\nc = 3\r\n";

    CHECK_EQ_U64(parse_text(text, sizeof(text) - 1, &log, &err), -1);
    CHECK_EQ_U64(err.line, 5);
    CHECK_STR_EQ(err.reason, "missing '=' after key");
    /* Nothing after the error reaches the handler. */
    CHECK_STR_EQ(log.text, "||a=1\n||b=2\n");

    FAILS("\xef\xbb\xbf\n\nk\n", 3, "missing '=' after key");
}

static void handler_refusal_names_the_key(void)
{
    struct log log = { .refuse_key = "memory", .refuse_reason = "bad size" };
    struct cfg_error err;
    const char text[] = "[guest a]\nname = x\nmemory = 16Q\nafter = 1\n";

    CHECK_EQ_U64(parse_text(text, sizeof(text) - 1, &log, &err), -1);
    CHECK_EQ_U64(err.line, 3);
    CHECK_STR_EQ(err.reason, "key 'memory': bad size");
    CHECK_STR_EQ(log.text, "guest|a|name=x\nguest|a|memory=16Q\n");

    /* An empty reason is still a refusal. */
    struct log quiet = { .refuse_key = "k", .refuse_reason = "" };
    CHECK_EQ_U64(parse_text("k = v\n", 6, &quiet, &err), -1);
    CHECK_STR_EQ(err.reason, "key 'k': rejected");

    /* Long key and reason: cut to fit, still terminated. */
    static const char long_key[] = NAME63;
    static const char long_reason[] =
        "this reason is much longer than the space left in the error buffer after the key";
    char line[160];
    int n = snprintf(line, sizeof(line), "%s = v\n", long_key);
    struct log wordy = { .refuse_key = long_key, .refuse_reason = long_reason };
    memset(&err, 0x41, sizeof(err));
    CHECK_EQ_U64(parse_text(line, (size_t)n, &wordy, &err), -1);
    CHECK_EQ_U64(strnlen(err.reason, sizeof(err.reason)), sizeof(err.reason) - 1);
    CHECK(strncmp(err.reason, "key 'abcdefghij", 15) == 0);
}

int main(void)
{
    check_suite = "config";
    RUN_TEST(example_file);
    RUN_TEST(sections_and_arguments);
    RUN_TEST(comments_and_blank_lines);
    RUN_TEST(values);
    RUN_TEST(quoted_values);
    RUN_TEST(line_endings_and_bom);
    RUN_TEST(length_is_respected);
    RUN_TEST(null_text_and_null_outputs);
    RUN_TEST(success_clears_error);
    RUN_TEST(nul_and_control_bytes);
    RUN_TEST(overlong_lines);
    RUN_TEST(malformed_section_headers);
    RUN_TEST(malformed_assignments);
    RUN_TEST(errors_stop_the_parse_and_name_the_line);
    RUN_TEST(handler_refusal_names_the_key);
    return check_finish();
}
