#include "hv/config/config.h"

/* A syntax error's reason. The UEFI stub reads one switch from hv.cfg and
 * passes no struct cfg_error (the core parses the file again and reports
 * what is wrong): it builds this file with CFG_NO_REASONS, and its copy
 * carries none of the texts, which hv.efi would hold unpacked. */
#ifdef CFG_NO_REASONS
#define WHY(text) ""
#else
#define WHY(text) text
#endif

struct parser {
    cfg_handler handler;
    void *arg;
    char section[CFG_MAX_NAME + 1];
    char section_arg[CFG_MAX_NAME + 1];
    char line[CFG_MAX_LINE + 1];
    const char *failed_key;     /* set when the handler refused a key */
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

static bool is_section_arg_char(char c)
{
    return is_name_char(c) || c == '.' || c == '-';
}

static char *skip_spaces(char *s)
{
    while (is_space(*s))
        s++;
    return s;
}

static void copy_token(char *dst, const char *src, size_t len)
{
    for (size_t i = 0; i < len; i++)
        dst[i] = src[i];
    dst[len] = '\0';
}

/* Appends as much of s as fits, always leaving reason NUL-terminated. */
static void append_reason(struct cfg_error *err, size_t *used, const char *s)
{
    while (*s != '\0' && *used + 1 < sizeof(err->reason))
        err->reason[(*used)++] = *s++;
    err->reason[*used] = '\0';
}

static int fail(struct cfg_error *err, unsigned line, const char *key, const char *reason)
{
    if (err == NULL)
        return -1;

    size_t used = 0;
    err->line = line;
    err->reason[0] = '\0';
    if (key != NULL) {
        append_reason(err, &used, "key '");
        append_reason(err, &used, key);
        append_reason(err, &used, "': ");
    }
    append_reason(err, &used, reason[0] != '\0' ? reason : "rejected");
    return -1;
}

/* s points just past '['. */
static const char *parse_section_header(struct parser *p, char *s)
{
    s = skip_spaces(s);
    char *name = s;
    while (is_name_char(*s))
        s++;
    size_t name_len = (size_t)(s - name);
    if (name_len == 0) {
        if (*s == ']')
            return WHY("empty section name");
        return *s == '\0' ? WHY("missing ']' in section header")
                          : WHY("invalid character in section name");
    }
    if (name_len > CFG_MAX_NAME)
        return WHY("section name too long");

    /* Whitespace after the name introduces the argument, if any follows. */
    char *arg = s;
    size_t arg_len = 0;
    bool spaced = is_space(*s);
    s = skip_spaces(s);
    if (spaced && *s != ']' && *s != '\0') {
        arg = s;
        while (is_section_arg_char(*s))
            s++;
        arg_len = (size_t)(s - arg);
        if (arg_len == 0)
            return WHY("invalid character in section argument");
        if (arg_len > CFG_MAX_NAME)
            return WHY("section argument too long");
        spaced = is_space(*s);
        s = skip_spaces(s);
        if (spaced && is_section_arg_char(*s))
            return WHY("more than one section argument");
        if (*s != ']' && *s != '\0')
            return WHY("invalid character in section argument");
    }
    if (*s == '\0')
        return WHY("missing ']' in section header");
    if (*s != ']')
        return WHY("invalid character in section name");

    s = skip_spaces(s + 1);
    if (*s != '\0' && *s != '#' && *s != ';')
        return WHY("unexpected text after section header");

    copy_token(p->section, name, name_len);
    copy_token(p->section_arg, arg, arg_len);
    return NULL;
}

static const char *parse_assignment(struct parser *p, char *s)
{
    char *key = s;
    while (is_name_char(*s))
        s++;
    char *key_end = s;
    size_t key_len = (size_t)(key_end - key);
    if (key_len == 0)
        return *s == '=' ? WHY("empty key") : WHY("invalid character in key");
    if (key_len > CFG_MAX_NAME)
        return WHY("key too long");
    if (*s != '=' && *s != '\0' && !is_space(*s))
        return WHY("invalid character in key");
    s = skip_spaces(s);
    if (*s != '=')
        return WHY("missing '=' after key");
    s = skip_spaces(s + 1);

    char *value = s, *value_end;
    if (*s == '"') {
        value = ++s;
        while (*s != '\0' && *s != '"')
            s++;
        if (*s != '"')
            return WHY("unterminated quoted value");
        value_end = s;
        s = skip_spaces(s + 1);
        if (*s != '\0' && *s != '#')
            return WHY("unexpected text after quoted value");
    } else {
        /* '#' starts a comment only after whitespace, so "a#b" stays whole.
         * s[-1] exists: at least the '=' precedes. */
        while (*s != '\0' && !(*s == '#' && is_space(s[-1])))
            s++;
        value_end = s;
        while (value_end > value && is_space(value_end[-1]))
            value_end--;
    }

    /* Terminate only now: key_end may be the '=' parsed above. */
    *key_end = '\0';
    *value_end = '\0';
    if (p->handler != NULL) {
        const char *reason = p->handler(p->arg, p->section, p->section_arg, key, value);
        if (reason != NULL) {
            p->failed_key = key;
            return reason;
        }
    }
    return NULL;
}

static const char *parse_line(struct parser *p)
{
    char *s = skip_spaces(p->line);

    if (*s == '\0' || *s == '#' || *s == ';')
        return NULL;
    if (*s == '[')
        return parse_section_header(p, s + 1);
    return parse_assignment(p, s);
}

/* Copies one line into p->line, refusing what no text line may contain. */
static const char *load_line(struct parser *p, const char *start, size_t len)
{
    if (len > CFG_MAX_LINE)
        return WHY("line too long");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)start[i];
        if (c == '\0')
            return WHY("NUL byte");
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return WHY("control character");
        p->line[i] = (char)c;
    }
    p->line[len] = '\0';
    return NULL;
}

int cfg_parse(const char *text, size_t len, cfg_handler handler, void *arg,
              struct cfg_error *err)
{
    struct parser p = { .handler = handler, .arg = arg };
    size_t pos = 0;
    unsigned line = 0;

    if (err != NULL) {
        err->line = 0;
        err->reason[0] = '\0';
    }
    if (text == NULL)
        return len == 0 ? 0 : fail(err, 0, NULL, WHY("no text"));

    if (len >= 3 && (unsigned char)text[0] == 0xef &&
        (unsigned char)text[1] == 0xbb && (unsigned char)text[2] == 0xbf)
        pos = 3;

    while (pos < len) {
        if (line == (unsigned)-1)
            return fail(err, line, NULL, WHY("too many lines"));
        line++;

        size_t start = pos;
        while (pos < len && text[pos] != '\n')
            pos++;
        size_t end = pos;
        if (pos < len)
            pos++;                      /* the '\n' */
        if (end > start && text[end - 1] == '\r')
            end--;

        const char *reason = load_line(&p, text + start, end - start);
        if (reason == NULL)
            reason = parse_line(&p);
        if (reason != NULL)
            return fail(err, line, p.failed_key, reason);
    }
    return 0;
}

bool cfg_parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || out == NULL)
        return false;

    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }

    uint64_t value = 0;
    size_t digits = 0;
    for (;; s++, digits++) {
        unsigned digit;
        if (*s >= '0' && *s <= '9')
            digit = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            digit = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            digit = (unsigned)(*s - 'A' + 10);
        else
            break;
        if (value > (UINT64_MAX - digit) / base)
            return false;
        value = value * base + digit;
    }
    if (digits == 0)
        return false;

    unsigned shift = 0;
    switch (*s) {
    case 'K': case 'k': shift = 10; break;
    case 'M': case 'm': shift = 20; break;
    case 'G': case 'g': shift = 30; break;
    case 'T': case 't': shift = 40; break;
    default: break;
    }
    if (shift != 0)
        s++;
    if (*s != '\0')
        return false;
    if (value > (UINT64_MAX >> shift))
        return false;
    *out = value << shift;
    return true;
}

static bool equals_ignoring_case(const char *s, const char *lower)
{
    for (; *lower != '\0'; s++, lower++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != *lower)
            return false;
    }
    return *s == '\0';
}

bool cfg_parse_bool(const char *s, bool *out)
{
    /* Arrays, not pointers: the UEFI stub parses hv.cfg too, and a
     * table of pointers would need relocating there (efi/stub.lds). */
    static const char truthy[][5] = { "1", "yes", "true", "on" };
    static const char falsy[][6] = { "0", "no", "false", "off" };

    if (s == NULL || out == NULL)
        return false;
    for (size_t i = 0; i < sizeof(truthy) / sizeof(truthy[0]); i++) {
        if (equals_ignoring_case(s, truthy[i])) {
            *out = true;
            return true;
        }
        if (equals_ignoring_case(s, falsy[i])) {
            *out = false;
            return true;
        }
    }
    return false;
}

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool cfg_equal(const char *a, const char *b)
{
    for (; *a != '\0' && *a == *b; a++, b++)
        ;
    return *a == *b;
}

bool cfg_equal_nocase(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++)
        if (ascii_lower(*a) != ascii_lower(*b))
            return false;
    return *a == *b;
}
