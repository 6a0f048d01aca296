/* The end of the run repeats lines of the boot header from the log's kept
 * history (hv/console/log.h, log_repeat_kept), so they are on screen with
 * the summary. */
#include "hv/console/log.h"

#include "lib/string.h"

void log_repeat_kept(const char *const *prefixes, unsigned n)
{
    size_t len;
    const char *history = log_kept(&len); /* log_write below takes the lock itself */
    static const char hv_prefix[] = "hv: ";
    const size_t hv_len = sizeof(hv_prefix) - 1;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (history[i] != '\n')
            continue;
        const char *line = history + start;
        size_t line_len = i - start; /* without the newline */
        start = i + 1;
        if (line_len <= hv_len || memcmp(line, hv_prefix, hv_len) != 0)
            continue; /* a guest's line */
        const char *text = line + hv_len;
        size_t text_len = line_len - hv_len;
        for (unsigned p = 0; p < n; p++) {
            size_t plen = strlen(prefixes[p]);
            if (plen <= text_len && memcmp(text, prefixes[p], plen) == 0) {
                log_write(LOG_INFO, "  %.*s", (int)text_len, text);
                break;
            }
        }
    }
}
