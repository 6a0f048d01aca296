/* A guest's parameters (name, memory, stack, vCPUs, enabled), decided from
 * three layers, each overriding the one before:
 *
 *   1. defaults, derived from the image file name and size;
 *   2. the image's optional ELF note (struct hv_image_note; 0 = default);
 *   3. the hv.cfg section [guest FILE_NAME].
 *
 * The name is the guest's identity: it decides [shm] membership and which
 * guests may bind event channels to it. So it comes only from what the
 * machine's owner wrote, hv.cfg's name key or else the file name, never from
 * the image: the note's name field is ignored (ignored_note_name reports it
 * when it differs, for an info line). The file name becomes a name thus:
 * a trailing ".elf" (any case) is dropped, A-Z become a-z (FAT keeps no
 * reliable case), every character other than [a-z0-9._-] becomes '_', and
 * the result is cut to 31 characters ("guest" if nothing is left). Two files
 * can therefore give one name; the loader rejects the second (names are
 * unique, compared ignoring case).
 *
 * The section argument is matched against the file name ignoring ASCII case,
 * because the ESP is FAT, where HELLO.ELF and hello.elf are the same file.
 * Only files whose name is a valid section argument ([A-Za-z0-9._-], at most
 * 63 characters) can be configured. When several sections match (say
 * [guest hello.elf] and [guest HELLO.ELF]) or a key repeats, the last value
 * in the file wins; validation happens on the merged result, so an out-of-
 * range note value that hv.cfg overrides is never an error.
 *
 * hv.cfg keys in a guest section:
 *   name    1..31 characters of [A-Za-z0-9._-]; refused otherwise
 *   memory  bytes, cfg_parse_u64 syntax (0x.., K/M/G/T suffixes)
 *   stack   bytes per vCPU, same syntax
 *   vcpus   number of vCPUs
 *   enabled yes/no (cfg_parse_bool)
 *   weight  CPU share, 1..65535
 *   cpus    the CPUs its vCPUs may run on: a list such as 2-3 or 0,2,5
 *           (hv/sched/placement.h); whether hv uses them is the loader's
 *           check
 *   sha256  the image's SHA-256 pin: not a parameter, accepted here and
 *           checked by image_policy.h before the image is parsed
 *   on_exit, on_fault, max_restarts, monitor
 *           what hv does when the guest ends, and whether it may read the
 *           health monitor's log (hv/guest/restart_policy.h). The image's
 *           restart-policy note may ask for on_exit, on_fault (stop or
 *           restart only) and max_restarts (at most the default rate); each
 *           of these keys in hv.cfg wins over it; monitor is hv.cfg's only
 *
 * Pure code: no allocation, no hardware; used by the loader and unit tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/guest/restart_policy.h"
#include "include/hv/abi.h"

#define GUEST_NAME_MAX 31
#define GUEST_MAX_VCPUS 16

#define GUEST_PAGE_BYTES 0x1000ULL
#define GUEST_STACK_GUARD_BYTES GUEST_PAGE_BYTES   /* unmapped page below each stack */
/* the start-info page and the shared page */
#define GUEST_START_INFO_BYTES (2 * GUEST_PAGE_BYTES)
#define GUEST_DEFAULT_STACK_BYTES (64ULL << 10)
#define GUEST_MIN_STACK_BYTES (4ULL << 10)
#define GUEST_MAX_STACK_BYTES (16ULL << 20)
#define GUEST_MIN_MEMORY_BYTES (256ULL << 10)
#define GUEST_MAX_MEMORY_BYTES (64ULL << 30)
#define GUEST_DEFAULT_MIN_MEMORY_BYTES (4ULL << 20)
#define GUEST_DEFAULT_HEAP_SLACK_BYTES (1ULL << 20)

#define GUEST_DEFAULT_WEIGHT 256
#define GUEST_MIN_WEIGHT 1
#define GUEST_MAX_WEIGHT 65535

struct guest_params {
    char name[GUEST_NAME_MAX + 1];  /* NUL-terminated, [A-Za-z0-9._-]+ */
    uint64_t memory_bytes;          /* multiple of 4 KiB, 256 KiB .. 64 GiB */
    uint64_t stack_bytes;           /* per vCPU, multiple of 4 KiB, 4 KiB .. 16 MiB */
    uint32_t vcpus;                 /* 1 .. GUEST_MAX_VCPUS */
    bool enabled;
    uint32_t weight;                /* CPU share, relative to GUEST_DEFAULT_WEIGHT */
    uint64_t cpus;                  /* affinity: CPUs 0..63 by bit; 0: every CPU hv uses */
    bool name_from_cfg;             /* name from hv.cfg, else from the file name */
    struct guest_policy policy;     /* on_exit, on_fault, max_restarts, monitor */
    unsigned policy_cfg_keys;       /* GUEST_POLICY_CFG_*: the keys hv.cfg set (they win
                                     * over the image's policy note, which the loader
                                     * applies: guest_policy_apply_note) */
    /* The note's name, printable and cut for a message, when it is not ""
     * and differs from name; else "". */
    char ignored_note_name[GUEST_NAME_MAX + 1];
};

/* Decides the parameters of the guest in file file_name (the bare name in
 * \images, e.g. "hello.elf") whose loaded image spans image_span_bytes.
 * note is NULL when the image has none; cfg_text/cfg_len is hv.cfg (NULL/0
 * when there is none).
 *
 * Defaults: name from the file name as above; 1 vCPU; 64 KiB stack; enabled; memory =
 * max(4 MiB, span + vcpus * (stack + 4 KiB guard) + 1 MiB) rounded up to
 * 4 KiB, computed with the final vcpus and stack, and capped at 64 GiB when
 * the image still fits below that.
 *
 * Checks on the merged values: a note's abi_version must be HV_ABI_VERSION
 * (its name field is not checked: it is not used);
 * vcpus 1..16; stack 4 KiB..16 MiB, then rounded up to 4 KiB; memory 256 KiB
 * ..64 GiB, then rounded up to 4 KiB, and at least span + vcpus * (stack +
 * 4 KiB) + 4 KiB (start info). Range checks apply to the value as given,
 * before rounding. Whether the machine has the memory is the loader's job.
 *
 * hv.cfg syntax errors are left to settings.c: the parse simply stops there
 * and what came before counts. Errors in this guest's own section (unknown
 * key, malformed value) are refused.
 *
 * Returns 0 and fills *out, or -1 with *out untouched and a reason in why
 * naming the setting and its source, e.g.
 *   "hv.cfg [guest hello.elf] memory = 0x10: must be at least 256 KiB".
 * why may be NULL / why_len 0; it is set to "" on success. */
int guest_params_resolve(const char *file_name, uint64_t image_span_bytes,
                         const struct hv_image_note *note, const char *cfg_text,
                         size_t cfg_len, struct guest_params *out, char *why,
                         size_t why_len);

/* Calls report(arg, X) for every [guest X] section of hv.cfg whose X matches
 * none of the n file_names (ignoring ASCII case; NULL entries are skipped),
 * and returns how many calls it made. X is "" for a bare [guest] section and
 * is valid only during the call.
 *
 * The tokenizer only shows sections through their keys, so a section without
 * keys (which has no effect anyway) is not reported, and a report is made
 * per run of keys under one name: [guest foo] ... [guest bar] ... [guest foo]
 * reports foo twice. As with resolve, parsing stops at a syntax error.
 * report may be NULL to only count. */
int guest_params_unknown_sections(const char *cfg_text, size_t cfg_len,
                                  const char *const *file_names, size_t n,
                                  void (*report)(void *arg, const char *section_arg),
                                  void *arg);

/* Whether two guest names are the same name: equal ignoring ASCII case, so
 * "Producer" cannot sit beside "producer" and be mistaken for it in a log. */
bool guest_name_equal(const char *a, const char *b);
