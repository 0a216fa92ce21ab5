/* lib/base/strbuf: appends, printf past the short-format buffer, and the hand-over. */
#include "strbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_build_and_finish(void **state)
{
    (void)state;
    ws_strbuf b = {0};
    char *empty = ws_strbuf_finish(&b);
    assert_string_equal(empty, ""); /* nothing added: an empty string, not NULL */
    free(empty);
    ws_strbuf_str(&b, "page");
    ws_strbuf_add(&b, "\x1f", 1);
    ws_strbuf_printf(&b, "%zu,%d,%.2f", (size_t)42, -7, 0.5);
    ws_strbuf_str(&b, NULL);
    char long_text[1000];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = 0;
    ws_strbuf_printf(&b, "[%s]", long_text); /* longer than the function's own stack buffer */
    assert_int_equal(b.len, 4 + 1 + 10 + 1001);
    char *s = ws_strbuf_finish(&b);
    assert_memory_equal(s, "page\x1f" "42,-7,0.50[xxx", 19);
    assert_int_equal(strlen(s), 1016);
    assert_int_equal(s[1015], ']');
    assert_null(b.s); /* the buffer is empty again */
    assert_int_equal(b.len, 0);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_build_and_finish)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
