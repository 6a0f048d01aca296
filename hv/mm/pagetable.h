/* x86-64 4-level page tables, built through a direct map of physical memory
 * (offset 0 for the UEFI stub's identity map, the hypervisor's direct map,
 * or a test's fake memory). Pure: no TLB flushing, no CR3; callers flush.
 *
 * Levels are numbered 4 (PML4, the root) down to 1 (page table). Leaves are
 * 4 KiB (level 1), 2 MiB (level 2, PS) or 1 GiB (level 3, PS). Intermediate
 * entries are always P|W, plus U when some leaf beneath is (or was) user,
 * never NX: the leaf decides. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PTE_P (1ULL << 0)
#define PTE_W (1ULL << 1)
#define PTE_U (1ULL << 2)
#define PTE_PWT (1ULL << 3)
#define PTE_PCD (1ULL << 4)
#define PTE_A (1ULL << 5)
#define PTE_D (1ULL << 6)
#define PTE_PS (1ULL << 7)
#define PTE_G (1ULL << 8)
#define PTE_NX (1ULL << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ULL /* bits 12..51 */

/* map_opts */
#define PT_ALLOW_2M (1u << 0)
#define PT_ALLOW_1G (1u << 1)

#define PT_OK 0
#define PT_EINVAL (-1) /* unaligned, non-canonical, wrapping, bad flags */
#define PT_ENOMEM (-2) /* alloc_table returned 0 */
#define PT_EEXIST (-3) /* part of the range is mapped already */
#define PT_ENOENT (-4) /* part of the range is not mapped */

struct spinlock;

struct pt_space {
    uint64_t root_phys;
    /* 0, or a second root whose lower half every operation here keeps
     * equal to root_phys's (its upper half is the caller's): the tables a
     * guest runs on under page-table isolation (hv/mm/xpti.h). */
    uint64_t isolated_root_phys;
    uintptr_t direct_map_offset; /* virtual = physical + offset */
    /* A zeroed 4 KiB physical page, or 0 when none is left. */
    uint64_t (*alloc_table)(void *arg);
    void *alloc_arg;
    /* SMP (not used by this module): the lock its owner changes it under
     * (a guest's mm_lock; NULL for hv's own tables), and the CPUs that
     * ever loaded it (bit = CPU index; set by space_load the first time,
     * read by the TLB shootdown, hv/cpu/tlb_shootdown.h). */
    struct spinlock *lock;
    uint64_t cpus_loaded;
};

/* Allocates the root table. PT_EINVAL without alloc_table. */
int pt_init(struct pt_space *s, uintptr_t direct_map_offset, uint64_t (*alloc_table)(void *),
            void *arg);

/* Maps [va, va + size) to [pa, pa + size). va, pa and size must be 4 KiB
 * multiples (size > 0), va..va+size-1 canonical without crossing the hole,
 * pa + size <= 2^52. flags: leaf bits (PTE_P implied) from W, U, PWT, PCD, A,
 * D, G, NX and the software/protection-key bits 9..11 and 52..62; PS and
 * address bits are refused (the module decides page sizes, and PAT is not
 * supported). map_opts PT_ALLOW_2M / PT_ALLOW_1G allow large leaves where
 * va, pa and the remaining size are aligned and no table exists there yet.
 * All or nothing: on any error no page of the range is mapped. Tables that
 * got allocated before an error stay (empty), and intermediates may keep a
 * U bit set for a user mapping that failed; both are harmless. */
int pt_map(struct pt_space *s, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags,
           unsigned map_opts);

/* Unmaps every mapped page in [va, va + size) (holes are fine). A large
 * leaf that the range only partly covers is split first. On PT_ENOMEM (a
 * split needed a table) the translation is unchanged, though some large
 * pages may now be split. Emptied tables are not freed. */
int pt_unmap(struct pt_space *s, uint64_t va, uint64_t size);

/* Replaces the leaf flags of every page in [va, va + size) with flags (same
 * rules as pt_map; pass A and D again if you want them kept), splitting
 * large leaves the range only partly covers. PT_ENOENT if any page in the
 * range is unmapped, PT_ENOMEM if a split failed: then no flags changed. */
int pt_protect(struct pt_space *s, uint64_t va, uint64_t size, uint64_t flags);

/* Translates va. *flags gets the leaf's flag bits with W and U only if set
 * at every level and NX if set at any level (PS tells a large leaf). Either
 * output pointer may be NULL. */
bool pt_lookup(const struct pt_space *s, uint64_t va, uint64_t *pa, uint64_t *flags);

/* Calls fn for every table page reachable through entries whose range
 * meets [va_lo, va_hi] (inclusive; pass 0, UINT64_MAX for everything),
 * children before their parent and the root last (always, whatever the
 * range), so fn may free each page it is given. */
typedef void (*pt_visit_fn)(void *arg, uint64_t table_phys, int level);
void pt_for_each_table(const struct pt_space *s, uint64_t va_lo, uint64_t va_hi, pt_visit_fn fn,
                       void *arg);

/* A present leaf (4 KiB, 2 MiB or 1 GiB) with its whole extent and raw
 * flags, as pt_unmap_bounded reports it. */
typedef void (*pt_leaf_fn)(void *arg, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags);

/* Replaces the flags of the 4 KiB leaf mapping va (one walk, no split):
 * PT_OK, PT_ENOENT if va has no 4 KiB leaf, PT_EINVAL for bad flags. */
int pt_set_leaf_flags(struct pt_space *s, uint64_t va, uint64_t flags);

/* Page tables that mapping one 4 KiB page at va would have to allocate
 * (0 to 3; 0 also when a large leaf covers va). */
int pt_missing_tables(const struct pt_space *s, uint64_t va);

/* Bounded unmapping, for work a guest asks for: one step of unmapping
 * [va, va + size) that visits at most `budget` page-table entries (a
 * check whether a table became empty costs PT_EMPTY_CHECK_COST more),
 * skipping absent subtrees whole, so its cost does not grow with the
 * size of the range. Before clearing a present leaf it calls leaf (may be
 * NULL); a table beneath the root that the step empties, or whose whole
 * range it covers, is unlinked and given to free_table. The root is never
 * freed. A large leaf the range only partly covers is split first. */
#define PT_EMPTY_CHECK_COST 64
#define PT_UNMAP_MIN_BUDGET 4 /* enough to reach and clear the first leaf */
struct pt_unmap_step {
    uint64_t budget;      /* in: entries it may visit (>= PT_UNMAP_MIN_BUDGET); out: left */
    uint64_t leaf_cost;   /* more budget each present leaf costs */
    pt_leaf_fn leaf;
    void (*free_table)(void *arg, uint64_t table_phys);
    void *arg;
    uint64_t tables_freed; /* out (added to): tables given to free_table */
    /* in: nothing is mapped below va (a teardown resuming where its last
     * step stopped): a table whose part of the range ends within it is
     * empty once that part is done, with no PT_EMPTY_CHECK_COST check of
     * its 512 entries (~2 700 instructions each, up to 4 per step). */
    bool clear_below;
    /* in (may be NULL): asked after each leaf_cost entries of work (a
     * cleared page, or that many entries visited); true ends the step at
     * the next entry, or before an emptiness check, when that is progress
     * (Xen's hypercall_preempt_check: an interrupt waits). */
    bool (*preempt)(void);
};
/* PT_OK with *done = bytes from va dealt with (>= 4 KiB, size when the
 * whole range is done; everything below va + *done is unmapped); PT_EINVAL
 * (bad range, no free_table, budget below the minimum) or PT_ENOMEM (a
 * split needed a table) with nothing unmapped. */
int pt_unmap_bounded(struct pt_space *s, uint64_t va, uint64_t size, struct pt_unmap_step *step,
                     uint64_t *done);
