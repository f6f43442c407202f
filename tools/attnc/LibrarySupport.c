/*===- LibrarySupport.c - linked into every library attnc builds ---------===*
 *
 * A caching allocator for the Halide runtime of the library.  Each parallel
 * task of a fused attention kernel allocates its tile buffers (scores and
 * probabilities: query_tile x keys floats, hundreds of KiB) and frees them
 * when it ends.  With glibc's malloc such sizes are mmap'ed and unmapped
 * every time, and the page faults cost up to 1.7x the kernel's run time
 * (docs/Rationale.md).  This allocator keeps up to eight freed blocks per
 * thread and hands them out again; it is installed when the library is
 * loaded.  Memory it keeps is bounded (eight blocks per thread of the
 * Halide thread pool) and lives until the process ends.
 *
 *===----------------------------------------------------------------------===*/

#include <stddef.h>
#include <stdlib.h>

typedef void *(*attnc_halide_malloc_t)(void *, size_t);
typedef void (*attnc_halide_free_t)(void *, void *);
extern attnc_halide_malloc_t
halide_set_custom_malloc(attnc_halide_malloc_t user_malloc);
extern attnc_halide_free_t halide_set_custom_free(attnc_halide_free_t user_free);

/* Alignment of every block, and the size of the header before it. */
#define ATTNC_ALIGN 128
#define ATTNC_CACHED_BLOCKS 8

static _Thread_local void *attnc_cache[ATTNC_CACHED_BLOCKS];
static _Thread_local int attnc_cached;

/* The capacity of a block, kept in its header. */
static size_t *attnc_capacity(void *block) {
  return (size_t *)((char *)block - ATTNC_ALIGN);
}

static void *attnc_malloc(void *user_context, size_t size) {
  (void)user_context;
  for (int n = 0; n < attnc_cached; ++n) {
    void *block = attnc_cache[n];
    if (*attnc_capacity(block) >= size) {
      attnc_cache[n] = attnc_cache[--attnc_cached];
      return block;
    }
  }
  size_t capacity = (size + ATTNC_ALIGN - 1) / ATTNC_ALIGN * ATTNC_ALIGN;
  char *base = aligned_alloc(ATTNC_ALIGN, capacity + ATTNC_ALIGN);
  if (!base)
    return NULL;
  *(size_t *)base = capacity;
  return base + ATTNC_ALIGN;
}

static void attnc_free(void *user_context, void *block) {
  (void)user_context;
  if (!block)
    return;
  if (attnc_cached < ATTNC_CACHED_BLOCKS) {
    attnc_cache[attnc_cached++] = block;
    return;
  }
  free((char *)block - ATTNC_ALIGN);
}

__attribute__((constructor)) static void attnc_install_allocator(void) {
  halide_set_custom_malloc(attnc_malloc);
  halide_set_custom_free(attnc_free);
}
