/* The [guest NAME] sections of hv.cfg that name no file of \images, which
 * the loader reports (a typo in a name would otherwise be ignored without
 * a word): guest_params_unknown_sections, guest_params.h. */
#include "guest-loader/guest_params.h"

#include "hv/config/config.h"

struct section_scan {
    const char *const *file_names;
    size_t n;
    void (*report)(void *arg, const char *section_arg);
    void *arg;
    bool in_run;                        /* the previous key was under [guest last] */
    char last[CFG_MAX_NAME + 1];
    int count;
};

static const char *scan_section(void *arg, const char *section, const char *section_arg,
                                const char *key, const char *value)
{
    struct section_scan *s = arg;
    (void)key;
    (void)value;
    if (!cfg_equal(section, "guest")) {
        s->in_run = false;
        return NULL;
    }
    if (s->in_run && cfg_equal(section_arg, s->last))
        return NULL;

    size_t len = 0;
    for (; len < CFG_MAX_NAME && section_arg[len] != '\0'; len++)
        s->last[len] = section_arg[len];
    s->last[len] = '\0';
    s->in_run = true;

    for (size_t i = 0; i < s->n; i++)
        if (s->file_names[i] != NULL && cfg_equal_nocase(section_arg, s->file_names[i]))
            return NULL;
    if (s->count < 0x7fffffff)
        s->count++;
    if (s->report != NULL)
        s->report(s->arg, section_arg);
    return NULL;
}

int guest_params_unknown_sections(const char *cfg_text, size_t cfg_len,
                                  const char *const *file_names, size_t n,
                                  void (*report)(void *arg, const char *section_arg),
                                  void *arg)
{
    struct section_scan s = {
        .file_names = file_names,
        .n = file_names != NULL ? n : 0,
        .report = report,
        .arg = arg,
    };
    cfg_parse(cfg_text, cfg_len, scan_section, &s, NULL);
    return s.count;
}
