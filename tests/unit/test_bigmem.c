/* lib/base/bigmem: zeroed, aligned, writable arrays of every size; those of 2 MiB and more mapped
 * with the kernel's huge-page advice. */
#include "bigmem.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static void test_zeroed_aligned_writable(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 1, 63, 64, 4096, (2u << 20) - 64, 2u << 20, (2u << 20) + 1, 10000003};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t n = sizes[i];
        unsigned char *p = ws_calloc_big(n, 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 64, 0);
        for (size_t j = 0; j < n; j++)
            if (p[j]) {
                fail_msg("byte %zu of %zu is %d, not zero", j, n, p[j]);
            }
        memset(p, 0xa5, n); /* every byte ours */
        ws_free_big(p);
    }
    ws_free_big(NULL);
}

static void test_overflow_refused(void **state)
{
    (void)state;
    assert_null(ws_calloc_big(SIZE_MAX / 2, 4));
    assert_null(ws_calloc_big(SIZE_MAX, SIZE_MAX));
}

/* The flags of the mapping that holds p ("hg": advised as huge pages), from /proc/self/smaps. */
static int mapping_has_flag(const void *p, const char *flag)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    char line[512];
    int inside = 0, found = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) /* a mapping's first line */
            inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
        else if (inside && !strncmp(line, "VmFlags:", 8)) {
            char needle[8];
            snprintf(needle, sizeof needle, " %s", flag);
            found = strstr(line, needle) != NULL;
            break;
        }
    }
    fclose(f);
    return found;
}

static void test_large_arrays_advised(void **state)
{
    (void)state;
    if (access("/sys/kernel/mm/transparent_hugepage/enabled", R_OK) != 0)
        skip(); /* a kernel without transparent huge pages: ordinary memory, nothing to check */
    size_t n = (size_t)24 << 20;
    unsigned char *big = ws_calloc_big(n, 1), *small = ws_calloc_big(1000, 1);
    assert_non_null(big);
    assert_non_null(small);
    memset(big, 1, n);
    int big_flag = mapping_has_flag(big, "hg"), end_flag = mapping_has_flag(big + n - 1, "hg");
    if (big_flag < 0)
        skip(); /* no /proc/self/smaps to read */
#if defined(__SANITIZE_ADDRESS__)
    assert_int_equal(big_flag, 0); /* AddressSanitizer checks only the heap: no mapping of its own */
#else
    assert_int_equal(big_flag, 1);
    assert_int_equal(end_flag, 1);
#endif
    assert_int_equal(mapping_has_flag(small, "hg"), 0); /* the heap is not advised */
    ws_free_big(big);
    ws_free_big(small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_zeroed_aligned_writable),
                                       cmocka_unit_test(test_overflow_refused),
                                       cmocka_unit_test(test_large_arrays_advised)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
