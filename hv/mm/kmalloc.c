#include "hv/mm/kmalloc.h"

#define PAGE 4096u

struct free_object {
    struct free_object *next;
};

static int class_of(size_t size)
{
    size_t c = KMALLOC_MIN;
    for (int i = 0; i < KMALLOC_CLASSES; i++, c <<= 1)
        if (size <= c)
            return i;
    return -1;
}

static void zero(void *p, size_t n)
{
    uint64_t *q = p;
    for (size_t i = 0; i < n / 8; i++)
        q[i] = 0;
}

void *kmalloc_from(struct kmalloc_heap *h, size_t size)
{
    if (size == 0)
        return NULL;
    int cls = class_of(size);
    if (cls < 0) {
        size_t pages = (size + PAGE - 1) / PAGE;
        if (pages == 0) /* size near SIZE_MAX wrapped */
            return NULL;
        void *p = h->get_pages(h->arg, pages);
        if (p) {
            h->bytes_in_use += pages * PAGE;
            h->large_pages += pages;
        }
        return p;
    }
    size_t obj = (size_t)KMALLOC_MIN << cls;
    if (!h->free_list[cls]) {
        char *page = h->get_pages(h->arg, 1);
        if (!page)
            return NULL;
        h->class_pages++;
        for (size_t off = 0; off < PAGE; off += obj) {
            struct free_object *o = (struct free_object *)(page + off);
            o->next = h->free_list[cls];
            h->free_list[cls] = o;
        }
    }
    struct free_object *o = h->free_list[cls];
    h->free_list[cls] = o->next;
    zero(o, obj);
    h->bytes_in_use += obj;
    return o;
}

void kfree_to(struct kmalloc_heap *h, void *p, size_t size)
{
    if (!p)
        return;
    int cls = class_of(size);
    if (cls < 0) {
        size_t pages = (size + PAGE - 1) / PAGE;
        h->put_pages(h->arg, p, pages);
        h->bytes_in_use -= pages * PAGE;
        h->large_pages -= pages;
        return;
    }
    /* Objects stay in their class: pages are not returned, which bounds
     * fragmentation work at the cost of keeping peak usage. */
    struct free_object *o = p;
    o->next = h->free_list[cls];
    h->free_list[cls] = o;
    h->bytes_in_use -= (size_t)KMALLOC_MIN << cls;
}
