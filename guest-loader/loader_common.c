/* Checks both personalities' loaders make before creating a guest
 * (guest-loader/loader_common.h). */
#include "guest-loader/loader_common.h"

#include "hv/console/log.h"
#include "hv/guest/guest.h"
#include "hv/mm/mm.h"
#include "hv/sched/placement.h"
#include "hv/sched/sched.h"

/* The guest already called name (ignoring case), or NULL. A name is a
 * guest's identity ([shm] membership, event-channel peers), so it is never
 * shared and never changed: the second image claiming one is rejected. */
static const struct guest *guest_named(const char *name)
{
    for (struct guest *g = guest_list(); g; g = g->next)
        if (guest_name_equal(g->name, name))
            return g;
    return NULL;
}

bool loader_name_and_memory_ok(const struct handoff_file *f, const struct guest_params *p)
{
    const struct guest *holder = guest_named(p->name);
    if (holder != NULL) {
        log_error("image %s rejected: guest name %s (from %s) is already the name of image %s",
                  f->name, p->name, p->name_from_cfg ? "hv.cfg" : "the file name", holder->file);
        return false;
    }
    /* The allowance is set aside at creation, whole: free memory that no
     * other guest's allowance holds, keeping HV_RESERVE_BYTES for hv. */
    uint64_t free_bytes = mm_free_bytes();
    uint64_t available = free_bytes > HV_RESERVE_BYTES ? free_bytes - HV_RESERVE_BYTES : 0;
    if (p->memory_bytes > available) {
        log_error("image %s rejected: guest %s asks for %lu KiB of memory, %lu KiB are free",
                  f->name, p->name, (unsigned long)(p->memory_bytes >> 10),
                  (unsigned long)(available >> 10));
        return false;
    }
    return true;
}

struct guest *loader_create_guest(const struct handoff_file *f, const struct guest_params *p)
{
    bool no_room;
    struct guest *g = guest_create(p->name, f->name, p->memory_bytes, &no_room);
    if (g)
        return g;
    if (no_room)
        log_error("image %s rejected: %lu KiB for guest %s could not be set aside (%lu KiB "
                  "free)",
                  f->name, (unsigned long)(p->memory_bytes >> 10), p->name,
                  (unsigned long)(mm_free_bytes() >> 10));
    else
        log_error("image %s rejected: no memory for the guest's bookkeeping", f->name);
    return NULL;
}

/* hv.cfg's `cpus` for the guest names only CPUs whose schedulers run
 * guests (0: no affinity); otherwise the image is refused, naming the key
 * and the CPUs hv has. */
bool loader_affinity_ok(const char *file, uint64_t cpus)
{
    uint64_t usable = sched_guest_cpus();
    if (!(cpus & ~usable))
        return true;
    char asked[64], have[64], missing[64];
    cpu_list_format(cpus, asked, sizeof(asked));
    cpu_list_format(usable, have, sizeof(have));
    cpu_list_format(cpus & ~usable, missing, sizeof(missing));
    log_error("image %s rejected: hv.cfg [guest %s] cpus = %s: CPU(s) %s do not run guests "
              "(guests run on CPU(s) %s)",
              file, file, asked, missing, have);
    return false;
}
