#include "hv/guest/restart_policy.h"

#include "hv/config/config.h"
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
