#include "hv/cpu/extable.h"

uint64_t extable_search(const struct extable_entry *first, const struct extable_entry *end,
                        uint64_t ip)
{
    for (const struct extable_entry *e = first; e < end; e++)
        if (e->fault_ip == ip)
            return e->fixup_ip;
    return 0;
}
