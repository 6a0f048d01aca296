#include "hv/guest/restart_policy.h"

#include "hv/config/config.h"
#include "include/hv/abi.h"
#include "lib/fmt.h"
#include "lib/nospec.h"

#define NS_PER_MS 1000000ULL
#define MAX_WINDOW_MS (366ULL * 24 * 3600 * 1000)

void guest_policy_default(struct guest_policy *p)
{
    p->on_exit = GUEST_ACTION_STOP;
    p->on_fault = GUEST_ACTION_STOP;
    p->max_restarts = GUEST_DEFAULT_MAX_RESTARTS;
    p->window_ms = GUEST_DEFAULT_RESTART_WINDOW_MS;
    p->monitor = false;
}

static const char *const action_names[] = {"stop", "restart", "halt"};

/* A note's action: 0 keeps *to, stop and restart set it; anything else
 * (halt, or no action at all) is refused. */
static bool note_action(uint32_t value, uint8_t *to, const char *field, char *why, size_t len)
{
    if (value == HV_NOTE_ACTION_DEFAULT)
        return true;
    if (value == HV_NOTE_ACTION_STOP || value == HV_NOTE_ACTION_RESTART) {
        *to = value == HV_NOTE_ACTION_STOP ? GUEST_ACTION_STOP : GUEST_ACTION_RESTART;
        return true;
    }
    fmt_format(why, len, "policy note: %s = %u: only stop (1) or restart (2)", field,
               (unsigned)value);
    return false;
}

bool guest_policy_apply_note(struct guest_policy *p, unsigned cfg_keys,
                             const struct hv_image_policy *note, char *why, size_t why_len)
{
    struct guest_policy q = *p;
    if (why_len)
        why[0] = '\0';
    if (!(cfg_keys & GUEST_POLICY_CFG_ON_EXIT) &&
        !note_action(note->on_exit, &q.on_exit, "on_exit", why, why_len))
        return false;
    if (!(cfg_keys & GUEST_POLICY_CFG_ON_FAULT) &&
        !note_action(note->on_fault, &q.on_fault, "on_fault", why, why_len))
        return false;
    if (!(cfg_keys & GUEST_POLICY_CFG_MAX_RESTARTS) && (note->max_restarts || note->window_s)) {
        uint32_t n = note->max_restarts ? note->max_restarts : GUEST_DEFAULT_MAX_RESTARTS;
        uint64_t window_s = note->window_s ? note->window_s
                                           : GUEST_DEFAULT_RESTART_WINDOW_MS / 1000;
        if (n > HV_NOTE_MAX_RESTARTS || window_s < HV_NOTE_MIN_WINDOW_S) {
            fmt_format(why, why_len, "policy note: max_restarts = %u within %lu s: above 5 "
                       "within 60 s", (unsigned)n, (unsigned long)window_s);
            return false;
        }
        q.max_restarts = n;
        q.window_ms = window_s * 1000;
    }
    *p = q;
    return true;
}

bool guest_action_parse(const char *text, uint8_t *out)
{
    for (unsigned i = 0; i < 3; i++)
        if (cfg_equal(text, action_names[i])) {
            *out = (uint8_t)i;
            return true;
        }
    return false;
}

const char *guest_action_name(unsigned action)
{
    return action < 3 ? action_names[array_index_nospec(action, 3)] : "?";
}

/* Digits at *p (at most 12: no overflow below 2^40), advancing *p. */
static bool take_number(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    unsigned digits = 0;
    while (**p >= '0' && **p <= '9') {
        if (++digits > 12)
            return false;
        v = v * 10 + (uint64_t)(**p - '0');
        (*p)++;
    }
    *out = v;
    return digits > 0;
}

static bool take_word(const char **p, const char *word)
{
    size_t i = 0;
    for (; word[i]; i++)
        if ((*p)[i] != word[i])
            return false;
    *p += i;
    return true;
}

static void skip_spaces(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

bool guest_restart_limit_parse(const char *text, uint32_t *n, uint64_t *window_ms)
{
    const char *p = text;
    uint64_t count, amount;
    skip_spaces(&p);
    if (!take_number(&p, &count) || count > GUEST_MAX_RESTARTS)
        return false;
    skip_spaces(&p);
    if (*p == '\0') {
        *n = (uint32_t)count;
        *window_ms = 0;
        return true;
    }
    if (!take_word(&p, "within"))
        return false;
    skip_spaces(&p);
    if (!take_number(&p, &amount))
        return false;
    uint64_t unit;
    if (take_word(&p, "ms"))
        unit = 1;
    else if (take_word(&p, "s"))
        unit = 1000;
    else if (take_word(&p, "m"))
        unit = 60 * 1000;
    else if (take_word(&p, "h"))
        unit = 3600 * 1000;
    else
        return false;
    skip_spaces(&p);
    /* amount < 10^12 and unit <= 3.6e6: the product fits in 64 bits. */
    if (*p != '\0' || amount == 0 || amount * unit > MAX_WINDOW_MS)
        return false;
    *n = (uint32_t)count;
    *window_ms = amount * unit;
    return true;
}

bool guest_restart_allowed(const struct guest_policy *p, const struct restart_history *h,
                           uint64_t now_ns)
{
    uint32_t max = p->max_restarts < GUEST_MAX_RESTARTS ? p->max_restarts : GUEST_MAX_RESTARTS;
    if (h->count < max)
        return true;
    if (max == 0 || p->window_ms == 0)
        return false;
    /* The max-th restart back from the newest: allowed once it is older
     * than the window (then fewer than max lie inside it). */
    uint64_t oldest =
        h->at_ns[array_index_nospec((h->count - max) % GUEST_MAX_RESTARTS, GUEST_MAX_RESTARTS)];
    uint64_t window_ns = p->window_ms * NS_PER_MS;
    return now_ns - oldest >= window_ns;
}

void guest_restart_record(struct restart_history *h, uint64_t now_ns)
{
    h->at_ns[h->count % GUEST_MAX_RESTARTS] = now_ns;
    h->count++;
}
