/* Memory map normalisation.
 *
 * Everything works in page numbers: entry i first becomes [first, end) pages
 * (kept in base and size while working). The exact result is then built by
 * painting kinds from the highest down into a sorted list at the front of
 * the array, while the entries still to paint wait at its back. Two
 * clean-ups beforehand make this fit in place: touching same-kind entries
 * are merged, and entries hidden entirely under higher kinds are dropped.
 * After that every remaining entry owns at least one output piece of its own
 * and pieces already painted are final, so painted + waiting never exceeds
 * the size of the final result. */
#include "hv/mm/memmap.h"

#define PAGE_SHIFT 12
#define PAGE_OFFSET_MASK 0xfffULL
/* Exclusive end page limit. The top page is never described, so that the
 * byte size of every result fits and base + size cannot overflow. */
#define PAGE_LIMIT ((1ULL << (64 - PAGE_SHIFT)) - 1)

struct span {
    uint64_t first, end; /* pages, end exclusive */
    uint32_t kind;
};

const char *mem_kind_name(uint32_t kind)
{
    switch (kind) {
    case MEM_USABLE: return "usable";
    case MEM_BOOTLOADER: return "bootloader";
    case MEM_RUNTIME: return "runtime";
    case MEM_ACPI_RECLAIM: return "acpi-reclaim";
    case MEM_ACPI_NVS: return "acpi-nvs";
    case MEM_MMIO: return "mmio";
    case MEM_RESERVED: return "reserved";
    case MEM_UNUSABLE: return "unusable";
    default: return "unknown";
    }
}

static uint32_t sanitize_kind(uint32_t kind)
{
    return kind >= MEM_USABLE && kind <= MEM_UNUSABLE ? kind : MEM_RESERVED;
}

/* The whole pages a firmware (byte) entry claims; false if none. */
static bool span_of_raw(const struct mem_range *e, struct span *s)
{
    if (e->size == 0)
        return false;
    uint64_t last = e->size - 1 > UINT64_MAX - e->base ? UINT64_MAX : e->base + (e->size - 1);
    s->kind = sanitize_kind(e->kind);
    if (s->kind == MEM_USABLE) {
        s->first = (e->base >> PAGE_SHIFT) + ((e->base & PAGE_OFFSET_MASK) != 0);
        s->end = (last >> PAGE_SHIFT) + ((last & PAGE_OFFSET_MASK) == PAGE_OFFSET_MASK);
    } else {
        s->first = e->base >> PAGE_SHIFT;
        s->end = (last >> PAGE_SHIFT) + 1;
    }
    if (s->end > PAGE_LIMIT)
        s->end = PAGE_LIMIT;
    return s->first < s->end;
}

static bool span_of(const struct mem_range *e, bool raw, struct span *s)
{
    if (raw)
        return span_of_raw(e, s);
    s->first = e->base;
    s->end = e->size;
    s->kind = e->kind;
    return true;
}

/* Highest kind (>= min_kind) claiming page p; 0 for none. */
static uint32_t kind_at(const struct mem_range *r, size_t n, bool raw, uint32_t min_kind,
                        uint64_t p)
{
    uint32_t best = 0;
    struct span s;
    for (size_t i = 0; i < n; i++)
        if (span_of(&r[i], raw, &s) && s.kind >= min_kind && s.first <= p && p < s.end &&
            s.kind > best)
            best = s.kind;
    return best;
}

/* Number of maximal same-kind runs among entries of kind >= min_kind. A run
 * can only start where some entry starts or ends, so those are the only
 * points to test. */
static size_t count_runs(const struct mem_range *r, size_t n, bool raw, uint32_t min_kind)
{
    size_t runs = 0;
    struct span s, t;
    for (size_t i = 0; i < n; i++) {
        if (!span_of(&r[i], raw, &s) || s.kind < min_kind)
            continue;
        for (int which = 0; which < 2; which++) {
            uint64_t p = which ? s.end : s.first;
            bool seen = which && s.first == p;
            for (size_t j = 0; j < i && !seen; j++)
                seen = span_of(&r[j], raw, &t) && t.kind >= min_kind && (t.first == p || t.end == p);
            if (seen)
                continue;
            uint32_t here = kind_at(r, n, raw, min_kind, p);
            if (here != 0 && (p == 0 || kind_at(r, n, raw, min_kind, p - 1) != here))
                runs++;
        }
    }
    return runs;
}

size_t memmap_normalized_count(const struct mem_range *r, size_t n)
{
    return r ? count_runs(r, n, true, MEM_USABLE) : 0;
}

static void remove_at(struct mem_range *r, size_t *n, size_t i)
{
    for (size_t j = i + 1; j < *n; j++)
        r[j - 1] = r[j];
    (*n)--;
}

/* Below, entries hold pages: base = first page, size = end page. */

static size_t to_pages(struct mem_range *r, size_t n)
{
    size_t kept = 0;
    struct span s;
    for (size_t i = 0; i < n; i++) {
        if (!span_of_raw(&r[i], &s))
            continue;
        r[kept].base = s.first;
        r[kept].size = s.end;
        r[kept].kind = s.kind;
        kept++;
    }
    return kept;
}

static void sort_by_base(struct mem_range *r, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct mem_range e = r[i];
        size_t j = i;
        for (; j > 0 && r[j - 1].base > e.base; j--)
            r[j] = r[j - 1];
        r[j] = e;
    }
}

static size_t merge_same_kind(struct mem_range *r, size_t n)
{
    size_t last[MEM_UNUSABLE + 1];
    for (size_t k = 0; k <= MEM_UNUSABLE; k++)
        last[k] = SIZE_MAX;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        size_t *l = &last[r[i].kind];
        if (*l != SIZE_MAX && r[i].base <= r[*l].size) {
            if (r[i].size > r[*l].size)
                r[*l].size = r[i].size;
            continue;
        }
        r[kept] = r[i];
        *l = kept++;
    }
    return kept;
}

/* Whether pages [lo, hi) are all claimed by entries of a kind above `kind`
 * (entry `skip` left out). Needs those entries sorted by base. */
static bool covered_above(const struct mem_range *r, size_t n, size_t skip, uint64_t lo,
                          uint64_t hi, uint32_t kind)
{
    uint64_t pos = lo;
    for (size_t j = 0; j < n && pos < hi; j++) {
        if (j == skip || r[j].kind <= kind || r[j].size <= pos)
            continue;
        if (r[j].base > pos)
            break;
        pos = r[j].size;
    }
    return pos >= hi;
}

/* Dropping a hidden entry changes no other entry's visibility: what it
 * covered is covered by still higher kinds. */
static size_t drop_hidden(struct mem_range *r, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (covered_above(r, n, i, r[i].base, r[i].size, r[i].kind))
            remove_at(r, &n, i);
        else
            i++;
    }
    return n;
}

/* The output pieces at either end of usable entry u: [*p, *q) is its first,
 * [*lp, *lq) its last (the same one when it has only one). */
static bool end_pieces(const struct mem_range *r, size_t n, size_t u, uint64_t *p, uint64_t *q,
                       uint64_t *lp, uint64_t *lq)
{
    uint64_t pos = r[u].base, last = r[u].size - 1;
    for (size_t j = 0; j < n; j++) {
        if (r[j].kind == MEM_USABLE || r[j].size <= pos)
            continue;
        if (r[j].base > pos)
            break;
        pos = r[j].size;
    }
    if (pos >= r[u].size)
        return false;
    *p = pos;
    *q = r[u].size;
    for (size_t j = 0; j < n; j++)
        if (r[j].kind != MEM_USABLE && r[j].base > pos && r[j].base < *q)
            *q = r[j].base;

    /* The last piece ends where the run of non-usable entries covering the
     * last page of u starts (or at u's end if nothing covers it). */
    uint64_t run_start = 0, run_end = 0, end = r[u].size;
    bool in_run = false;
    for (size_t j = 0; j < n; j++) {
        if (r[j].kind == MEM_USABLE)
            continue;
        if (r[j].base > last)
            break;
        if (!in_run || r[j].base > run_end) {
            in_run = true;
            run_start = r[j].base;
            run_end = r[j].size;
        } else if (r[j].size > run_end) {
            run_end = r[j].size;
        }
        if (run_start <= last && last < run_end)
            end = run_start;
    }
    uint64_t start = r[u].base;
    for (size_t j = 0; j < n; j++)
        if (r[j].kind != MEM_USABLE && r[j].base < end && r[j].size > start)
            start = r[j].size;
    *lp = start;
    *lq = end;
    return true;
}

/* The trimmed entry may be out of base order now; that is harmless, as the
 * walks above only follow non-usable entries and painting needs no order. */
static void remove_if_empty(struct mem_range *r, size_t *n, size_t u)
{
    if (r[u].base >= r[u].size || covered_above(r, *n, u, r[u].base, r[u].size, MEM_USABLE))
        remove_at(r, n, u);
}

/* Removes the smallest piece found at either end of a usable entry: exactly
 * one output piece less, as its neighbours are holes or other kinds. (A
 * middle piece would need the entry split, and there may be no room.) */
static bool drop_smallest_usable_piece(struct mem_range *r, size_t *n)
{
    size_t best = SIZE_MAX;
    bool best_is_last = false;
    uint64_t best_len = UINT64_MAX, best_cut = 0, p, q, lp, lq;
    for (size_t u = 0; u < *n; u++) {
        if (r[u].kind != MEM_USABLE || !end_pieces(r, *n, u, &p, &q, &lp, &lq))
            continue;
        if (q - p < best_len) {
            best = u;
            best_len = q - p;
            best_cut = q;
            best_is_last = false;
        }
        if (lq - lp < best_len) {
            best = u;
            best_len = lq - lp;
            best_cut = lp;
            best_is_last = true;
        }
    }
    if (best == SIZE_MAX)
        return false;
    if (best_is_last)
        r[best].size = best_cut;
    else
        r[best].base = best_cut;
    remove_if_empty(r, n, best);
    return true;
}

/* Paints the parts of e not yet claimed into the sorted list r[0..*len);
 * slots up to `limit` are free. */
static bool paint_one(struct mem_range *r, size_t *len, size_t limit, struct mem_range e)
{
    uint64_t pos = e.base;
    size_t idx = 0;
    while (idx < *len && r[idx].size <= pos)
        idx++;
    while (pos < e.size) {
        if (idx < *len && r[idx].base <= pos) {
            pos = r[idx].size;
            idx++;
            continue;
        }
        uint64_t gap_end = idx < *len && r[idx].base < e.size ? r[idx].base : e.size;
        if (*len >= limit)
            return false;
        for (size_t j = *len; j > idx; j--)
            r[j] = r[j - 1];
        r[idx].base = pos;
        r[idx].size = gap_end;
        r[idx].kind = e.kind;
        (*len)++;
        idx++;
        pos = gap_end;
    }
    return true;
}

static bool paint_all(struct mem_range *r, size_t n, size_t total)
{
    if (total < n)
        return false;
    size_t waiting = total - n;
    for (size_t i = n; i-- > 0;)
        r[waiting + i] = r[i];
    size_t len = 0;
    for (uint32_t kind = MEM_UNUSABLE; kind >= MEM_USABLE; kind--) {
        for (size_t i = waiting; i < total; i++) {
            if (r[i].kind != kind)
                continue;
            struct mem_range e = r[i];
            r[i] = r[waiting++];
            if (!paint_one(r, &len, waiting, e))
                return false;
        }
    }
    return len == total;
}

/* Whether the entries' whole-page spans come in ascending order without
 * overlapping: what UEFI firmware hands over. Such a map needs no painting:
 * normalising it is converting to pages and merging touching runs of one
 * kind, O(n) instead of the general path's O(n^3) run count (~0.5 M
 * instructions for QEMU's 128 entries). */
static bool pages_sorted_and_disjoint(const struct mem_range *r, size_t n)
{
    uint64_t prev_end = 0;
    struct span s;
    for (size_t i = 0; i < n; i++) {
        if (!span_of_raw(&r[i], &s))
            continue;
        if (s.first < prev_end)
            return false;
        prev_end = s.end;
    }
    return true;
}

/* With sorted, disjoint spans, the last entry of a kind is the one just
 * before whenever the two touch, so merge_same_kind merges exactly the
 * touching runs of one kind. */
static size_t normalize_disjoint(struct mem_range *r, size_t n)
{
    n = to_pages(r, n);
    n = merge_same_kind(r, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t first = r[i].base, end = r[i].size;
        r[i].base = first << PAGE_SHIFT;
        r[i].size = (end - first) << PAGE_SHIFT;
    }
    return n;
}

size_t memmap_normalize(struct mem_range *r, size_t n, size_t cap)
{
    if (!r || n == 0 || cap < n)
        return 0;
    if (pages_sorted_and_disjoint(r, n))
        return normalize_disjoint(r, n);
    if (count_runs(r, n, true, MEM_USABLE + 1) > cap)
        return 0;

    n = to_pages(r, n);
    sort_by_base(r, n);
    n = merge_same_kind(r, n);
    n = drop_hidden(r, n);
    size_t total = count_runs(r, n, false, MEM_USABLE);
    for (; total > cap; total--)
        if (!drop_smallest_usable_piece(r, &n))
            return 0; /* cannot happen: the non-usable runs fit */
    if (!paint_all(r, n, total))
        return 0; /* cannot happen, see the top of this file */

    for (size_t i = 0; i < total; i++) {
        uint64_t first = r[i].base, end = r[i].size;
        r[i].base = first << PAGE_SHIFT;
        r[i].size = (end - first) << PAGE_SHIFT;
    }
    return total;
}

uint64_t memmap_usable_bytes(const struct mem_range *r, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; r && i < n; i++) {
        if (r[i].kind != MEM_USABLE)
            continue;
        sum = r[i].size > UINT64_MAX - sum ? UINT64_MAX : sum + r[i].size;
    }
    return sum;
}
