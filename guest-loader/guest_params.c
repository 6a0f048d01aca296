#include "guest-loader/guest_params.h"

#include <stdarg.h>

#include "hv/config/config.h"
#include "hv/sched/placement.h"
#include "lib/fmt.h"

/* Longest piece of a user's value echoed back in a message: enough to
 * recognise it, short enough that the reason after it still fits. */
#define ECHO_MAX 24

/* The handler's reason when it refuses a key; the real message is in why. */
static const char refused[] = "refused";

enum source { FROM_DEFAULT, FROM_NOTE, FROM_CFG };

/* One numeric parameter and where its current value came from, with the
 * text to quote when it has to be refused. */
struct setting {
    const char *note_key;           /* field name in struct hv_image_note */
    const char *cfg_key;            /* key in hv.cfg */
    enum source source;
    uint64_t value;
    char text[ECHO_MAX + 4];        /* value as given, cut with "..." */
};

struct resolver {
    const char *file_name;
    char *why;
    size_t why_len;
    bool failed;
    struct setting vcpus, stack, memory;
    const struct hv_image_note *note;
    char name[GUEST_NAME_MAX + 1];
    bool name_from_cfg;
    bool enabled;
    uint32_t weight;
    uint64_t cpus;
    struct guest_policy policy;
    unsigned policy_cfg_keys;
};

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

static char to_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}


/* a (at most max bytes, maybe without a NUL) equals the string b. */
static bool equal_bounded(const char *a, size_t max, const char *b)
{
    size_t i = 0;
    for (; i < max && a[i] != '\0'; i++)
        if (a[i] != b[i])
            return false;
    return b[i] == '\0';
}

static uint64_t add_saturating(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t round_up_page_saturating(uint64_t v)
{
    uint64_t mask = GUEST_PAGE_BYTES - 1;
    return v > UINT64_MAX - mask ? UINT64_MAX : (v + mask) & ~mask;
}

/* Copies at most max bytes of src (stopping at a NUL) for quoting in a
 * message: bytes outside printable ASCII become '?' so a hostile note or
 * hv.cfg cannot put escape sequences on the console. */
static void copy_echo(char *dst, const char *src, size_t max)
{
    size_t i = 0;
    for (; i < max && i < ECHO_MAX && src[i] != '\0'; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
    size_t end = i;
    if (i == ECHO_MAX && i < max && src[i] != '\0')
        for (unsigned k = 0; k < 3; k++)
            dst[end++] = '.';
    dst[end] = '\0';
}

/* "64 KiB", "3 MiB", "0x1001 bytes": exact, in the largest unit that is. */
static void format_size(char *buf, size_t size, uint64_t v)
{
    static const char *const units[] = {"GiB", "MiB", "KiB"};
    for (unsigned i = 0; i < 3; i++) {
        unsigned shift = 30 - 10 * i;
        if (v != 0 && (v & ((1ULL << shift) - 1)) == 0) {
            fmt_format(buf, size, "%llu %s", (unsigned long long)(v >> shift), units[i]);
            return;
        }
    }
    fmt_format(buf, size, "0x%llx bytes", (unsigned long long)v);
}

static void say(struct resolver *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct resolver *r, const char *fmt, ...)
{
    r->failed = true;
    if (r->why == NULL || r->why_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    fmt_vformat(r->why, r->why_len, fmt, ap);
    va_end(ap);
}

/* Refuses a setting: "<source> <key> = <text>: <problem>". */
static void refuse(struct resolver *r, enum source source, const char *key, const char *text,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void refuse(struct resolver *r, enum source source, const char *key, const char *text,
                   const char *fmt, ...)
{
    r->failed = true;
    if (r->why == NULL || r->why_len == 0)
        return;
    size_t used;
    if (source == FROM_CFG)
        used = fmt_format(r->why, r->why_len, "hv.cfg [guest %s] %s = %s: ", r->file_name, key,
                          text);
    else
        used = fmt_format(r->why, r->why_len, "image note: %s = %s: ", key, text);
    if (used >= r->why_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    fmt_vformat(r->why + used, r->why_len - used, fmt, ap);
    va_end(ap);
}

static void refuse_setting(struct resolver *r, const struct setting *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse_setting(struct resolver *r, const struct setting *s, const char *fmt, ...)
{
    char problem[160];
    va_list ap;
    va_start(ap, fmt);
    fmt_vformat(problem, sizeof(problem), fmt, ap);
    va_end(ap);
    refuse(r, s->source, s->source == FROM_CFG ? s->cfg_key : s->note_key, s->text, "%s",
           problem);
}

/* Length of name if it is 1..GUEST_NAME_MAX name characters (ending at a
 * NUL or after max bytes, whichever comes first), else 0. */
static size_t valid_name_length(const char *name, size_t max)
{
    size_t len = 0;
    for (; len < max && name[len] != '\0'; len++)
        if (len == GUEST_NAME_MAX || !is_name_char(name[len]))
            return 0;
    return len;
}

static bool take_name(struct resolver *r, enum source source, const char *name, size_t max)
{
    size_t len = valid_name_length(name, max);
    if (len == 0) {
        char echo[ECHO_MAX + 4];
        copy_echo(echo, name, max);
        refuse(r, source, "name", echo, "must be 1 to %d characters of A-Z a-z 0-9 . _ -",
               GUEST_NAME_MAX);
        return false;
    }
    for (size_t i = 0; i < len; i++)
        r->name[i] = name[i];
    r->name[len] = '\0';
    r->name_from_cfg = true;
    return true;
}

/* The name a file gives its guest (see guest_params.h): lower case, so the
 * same file has the same name however the ESP's FAT reports its case. */
static void default_name(const char *file_name, char name[GUEST_NAME_MAX + 1])
{
    size_t len = 0;
    while (file_name[len] != '\0')
        len++;
    if (len >= 4 && cfg_equal_nocase(file_name + len - 4, ".elf"))
        len -= 4;
    if (len > GUEST_NAME_MAX)
        len = GUEST_NAME_MAX;
    for (size_t i = 0; i < len; i++)
        name[i] = is_name_char(file_name[i]) ? to_lower(file_name[i]) : '_';
    name[len] = '\0';
    if (len == 0) {
        static const char fallback[] = "guest";
        for (size_t i = 0; i < sizeof(fallback); i++)
            name[i] = fallback[i];
    }
}

static void set_from_note(struct setting *s, uint64_t value, bool hex)
{
    if (value == 0)
        return;     /* 0: keep the default */
    s->source = FROM_NOTE;
    s->value = value;
    fmt_format(s->text, sizeof(s->text), hex ? "0x%llx" : "%llu", (unsigned long long)value);
}

static bool apply_note(struct resolver *r, const struct hv_image_note *note)
{
    if (note->abi_version != HV_ABI_VERSION) {
        char text[16];
        fmt_format(text, sizeof(text), "%u", (unsigned)note->abi_version);
        refuse(r, FROM_NOTE, "abi_version", text, "this hv speaks ABI version %d",
               HV_ABI_VERSION);
        return false;
    }
    set_from_note(&r->vcpus, note->vcpus, false);
    set_from_note(&r->stack, note->stack_bytes, true);
    set_from_note(&r->memory, note->memory_bytes, true);
    /* The note's name is the image's wish, never its identity: compared
     * with the real name at the end only to tell the user it was ignored. */
    r->note = note;
    return true;
}

static const char *apply_cfg(void *arg, const char *section, const char *section_arg,
                             const char *key, const char *value)
{
    struct resolver *r = arg;
    if (!cfg_equal(section, "guest") || !cfg_equal_nocase(section_arg, r->file_name))
        return NULL;

    char echo[ECHO_MAX + 4];
    copy_echo(echo, value, (size_t)-1);

    if (cfg_equal(key, "name"))
        return take_name(r, FROM_CFG, value, (size_t)-1) ? NULL : refused;
    if (cfg_equal(key, "enabled")) {
        if (cfg_parse_bool(value, &r->enabled))
            return NULL;
        refuse(r, FROM_CFG, "enabled", echo, "must be yes or no");
        return refused;
    }
    /* Checked before the image is parsed, by image_policy.c. */
    if (cfg_equal(key, "sha256"))
        return NULL;
    if (cfg_equal(key, "weight")) {
        uint64_t w;
        if (cfg_parse_u64(value, &w) && w >= GUEST_MIN_WEIGHT && w <= GUEST_MAX_WEIGHT) {
            r->weight = (uint32_t)w;
            return NULL;
        }
        refuse(r, FROM_CFG, "weight", echo, "must be between 1 and 65535");
        return refused;
    }

    if (cfg_equal(key, "cpus")) {
        if (cpu_list_parse(value, &r->cpus))
            return NULL;
        refuse(r, FROM_CFG, "cpus", echo,
               "must be a list of CPU numbers 0 to 63, like 2-3 or 0,2,5");
        return refused;
    }

    if (cfg_equal(key, "on_exit") || cfg_equal(key, "on_fault")) {
        bool exit_key = cfg_equal(key, "on_exit");
        uint8_t *to = exit_key ? &r->policy.on_exit : &r->policy.on_fault;
        if (guest_action_parse(value, to)) {
            r->policy_cfg_keys |= exit_key ? GUEST_POLICY_CFG_ON_EXIT : GUEST_POLICY_CFG_ON_FAULT;
            return NULL;
        }
        refuse(r, FROM_CFG, key, echo, "must be stop, restart or halt");
        return refused;
    }
    if (cfg_equal(key, "max_restarts")) {
        if (guest_restart_limit_parse(value, &r->policy.max_restarts, &r->policy.window_ms)) {
            r->policy_cfg_keys |= GUEST_POLICY_CFG_MAX_RESTARTS;
            return NULL;
        }
        refuse(r, FROM_CFG, key, echo,
               "must be N or N within T (N at most %d, T like 500ms, 60s, 5m or 1h)",
               GUEST_MAX_RESTARTS);
        return refused;
    }
    if (cfg_equal(key, "monitor")) {
        if (cfg_parse_bool(value, &r->policy.monitor))
            return NULL;
        refuse(r, FROM_CFG, "monitor", echo, "must be yes or no");
        return refused;
    }

    struct setting *s = NULL;
    if (cfg_equal(key, "vcpus"))
        s = &r->vcpus;
    else if (cfg_equal(key, "stack"))
        s = &r->stack;
    else if (cfg_equal(key, "memory"))
        s = &r->memory;
    if (s == NULL) {
        say(r, "hv.cfg [guest %s]: unknown key '%s' (known: name, memory, stack, vcpus, enabled, weight, cpus, sha256, on_exit, on_fault, "
            "max_restarts, monitor)",
            r->file_name, key);
        return refused;
    }

    uint64_t v;
    if (!cfg_parse_u64(value, &v)) {
        refuse(r, FROM_CFG, key, echo,
               s == &r->vcpus ? "must be a number" :
                                "must be a byte count like 64K, 16M or 0x10000");
        return refused;
    }
    s->source = FROM_CFG;
    s->value = v;
    for (size_t i = 0; i < sizeof(s->text); i++)
        s->text[i] = echo[i];
    return NULL;
}

/* Checks vcpus and stack and rounds the stack; true if both are fine. */
static bool check_vcpus_and_stack(struct resolver *r)
{
    if (r->vcpus.value < 1 || r->vcpus.value > GUEST_MAX_VCPUS) {
        refuse_setting(r, &r->vcpus, "must be between 1 and %d vCPUs", GUEST_MAX_VCPUS);
        return false;
    }
    if (r->stack.value < GUEST_MIN_STACK_BYTES) {
        refuse_setting(r, &r->stack, "must be at least 4 KiB");
        return false;
    }
    if (r->stack.value > GUEST_MAX_STACK_BYTES) {
        refuse_setting(r, &r->stack, "must be at most 16 MiB");
        return false;
    }
    r->stack.value = round_up_page_saturating(r->stack.value);
    return true;
}

/* Decides memory once vcpus and stack are final; false if refused. */
static bool settle_memory(struct resolver *r, uint64_t span)
{
    uint64_t stacks = r->vcpus.value * (r->stack.value + GUEST_STACK_GUARD_BYTES);
    uint64_t image_and_stacks = add_saturating(span, stacks);
    uint64_t need = round_up_page_saturating(add_saturating(image_and_stacks,
                                                            GUEST_START_INFO_BYTES));
    char stack_text[32], span_text[32], need_text[32];
    format_size(stack_text, sizeof(stack_text), r->stack.value);
    format_size(span_text, sizeof(span_text), span);

    if (need > GUEST_MAX_MEMORY_BYTES) {
        say(r, "image of %s with %u x (%s stack + 4 KiB guard) and the 8 KiB start-info and shared pages "
               "needs more than the 64 GiB memory limit",
            span_text, (unsigned)r->vcpus.value, stack_text);
        return false;
    }

    if (r->memory.source == FROM_DEFAULT) {
        uint64_t m = add_saturating(image_and_stacks, GUEST_DEFAULT_HEAP_SLACK_BYTES);
        if (m < GUEST_DEFAULT_MIN_MEMORY_BYTES)
            m = GUEST_DEFAULT_MIN_MEMORY_BYTES;
        m = round_up_page_saturating(m);
        /* The slack is a nicety: an image that fits should not be refused
         * for want of it. need <= 64 GiB here, so the cap still covers it. */
        r->memory.value = m > GUEST_MAX_MEMORY_BYTES ? GUEST_MAX_MEMORY_BYTES : m;
        return true;
    }

    if (r->memory.value < GUEST_MIN_MEMORY_BYTES) {
        refuse_setting(r, &r->memory, "must be at least 256 KiB");
        return false;
    }
    if (r->memory.value > GUEST_MAX_MEMORY_BYTES) {
        refuse_setting(r, &r->memory, "must be at most 64 GiB");
        return false;
    }
    r->memory.value = round_up_page_saturating(r->memory.value);
    if (r->memory.value < need) {
        format_size(need_text, sizeof(need_text), need);
        refuse_setting(r, &r->memory,
                       "too small, needs at least %s (image %s + %u x (%s stack + 4 KiB guard) "
                       "+ 8 KiB start-info and shared pages)",
                       need_text, span_text, (unsigned)r->vcpus.value, stack_text);
        return false;
    }
    return true;
}

int guest_params_resolve(const char *file_name, uint64_t image_span_bytes,
                         const struct hv_image_note *note, const char *cfg_text,
                         size_t cfg_len, struct guest_params *out, char *why,
                         size_t why_len)
{
    struct resolver r = {
        .file_name = file_name,
        .why = why,
        .why_len = why_len,
        .vcpus = {.note_key = "vcpus", .cfg_key = "vcpus", .value = 1, .text = "1"},
        .stack = {.note_key = "stack_bytes", .cfg_key = "stack",
                  .value = GUEST_DEFAULT_STACK_BYTES, .text = "64K"},
        .memory = {.note_key = "memory_bytes", .cfg_key = "memory"},
        .enabled = true,
        .weight = GUEST_DEFAULT_WEIGHT,
    };
    guest_policy_default(&r.policy);
    if (why != NULL && why_len > 0)
        why[0] = '\0';
    if (file_name == NULL || out == NULL) {
        say(&r, "guest_params_resolve: no file name or no output");
        return -1;
    }

    default_name(file_name, r.name);
    if (note != NULL && !apply_note(&r, note))
        return -1;
    /* A syntax error stops the parse; settings.c reports it, and what came
     * before it stays in force. Only a refusal of our own counts here. */
    cfg_parse(cfg_text, cfg_len, apply_cfg, &r, NULL);
    if (r.failed)
        return -1;

    if (!check_vcpus_and_stack(&r) || !settle_memory(&r, image_span_bytes))
        return -1;

    for (size_t i = 0; i < sizeof(out->name); i++)
        out->name[i] = r.name[i];
    out->memory_bytes = r.memory.value;
    out->stack_bytes = r.stack.value;
    out->vcpus = (uint32_t)r.vcpus.value;
    out->enabled = r.enabled;
    out->weight = r.weight;
    out->cpus = r.cpus;
    out->policy = r.policy;
    out->policy_cfg_keys = r.policy_cfg_keys;
    out->name_from_cfg = r.name_from_cfg;
    out->ignored_note_name[0] = '\0';
    if (r.note != NULL && r.note->name[0] != '\0' &&
        !equal_bounded(r.note->name, sizeof(r.note->name), r.name))
        copy_echo(out->ignored_note_name, r.note->name, sizeof(r.note->name));
    return 0;
}

bool guest_name_equal(const char *a, const char *b)
{
    return cfg_equal_nocase(a, b);
}
