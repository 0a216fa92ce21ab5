/* lib/io/inputs: records of several files in order with their file and line, batches that cross
 * files, read-all, and errors that name the file (a missing one) or the file and line (a
 * malformed record) after the records before it. */
#include "inputs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char dir[64];
static char a_path[96], b_path[96], bad_path[96], missing_path[96];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_inputs.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(a_path, sizeof a_path, "%s/a.jsonl", dir);
    snprintf(b_path, sizeof b_path, "%s/b.jsonl", dir);
    snprintf(bad_path, sizeof bad_path, "%s/bad.jsonl", dir);
    snprintf(missing_path, sizeof missing_path, "%s/missing.jsonl", dir);
    write_file(a_path, "{\"type\":\"goal\",\"v\":1,\"k\":0}\n{\"type\":\"goal\",\"v\":1,\"k\":1}\n");
    write_file(b_path, "\n{\"type\":\"goal\",\"v\":1,\"k\":2}\n");
    write_file(bad_path, "{\"type\":\"goal\",\"v\":1,\"k\":3}\n{not json\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(a_path);
    unlink(b_path);
    unlink(bad_path);
    rmdir(dir);
    return 0;
}

static const ws_reader_opts goal_opts = {.type = "goal", .version = 1};

static long k_of(const json_t *rec)
{
    return (long)json_integer_value(json_object_get(rec, "k"));
}

static void test_records_in_order(void **state)
{
    (void)state;
    const char *paths[] = {a_path, b_path};
    ws_err err;
    ws_inputs *in = ws_inputs_open(paths, 2, &goal_opts, &err);
    assert_non_null(in);
    assert_string_equal(ws_inputs_name(in), "");
    json_t *rec;
    const long want_line[] = {1, 2, 2}; /* b's record is on its second line */
    for (long k = 0; k < 3; k++) {
        assert_int_equal(ws_inputs_next(in, &rec, &err), WS_RECORD);
        assert_int_equal(k_of(rec), k);
        assert_string_equal(ws_inputs_name(in), k < 2 ? a_path : b_path);
        assert_int_equal(ws_inputs_line(in), want_line[k]);
        json_decref(rec);
    }
    assert_int_equal(ws_inputs_next(in, &rec, &err), WS_EOF);
    assert_int_equal(ws_inputs_next(in, &rec, &err), WS_EOF);
    ws_inputs_close(in);
}

static void test_batches_and_read_all(void **state)
{
    (void)state;
    const char *paths[] = {a_path, b_path, a_path};
    ws_err err;
    ws_inputs *in = ws_inputs_open(paths, 3, &goal_opts, &err);
    json_t *batch[4];
    int n;
    assert_int_equal(ws_inputs_next_batch(in, batch, 3, &n, &err), WS_RECORD); /* crosses a -> b */
    assert_int_equal(n, 3);
    assert_int_equal(k_of(batch[2]), 2);
    for (int i = 0; i < n; i++)
        json_decref(batch[i]);
    assert_int_equal(ws_inputs_next_batch(in, batch, 4, &n, &err), WS_EOF); /* the last file's two */
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++)
        json_decref(batch[i]);
    ws_inputs_close(in);

    in = ws_inputs_open(paths, 3, &goal_opts, &err);
    json_t **all;
    size_t count;
    assert_int_equal(ws_inputs_read_all(in, &all, &count, &err), WS_EOF);
    assert_int_equal(count, 5);
    assert_int_equal(k_of(all[4]), 1);
    for (size_t i = 0; i < count; i++)
        json_decref(all[i]);
    free(all);
    ws_inputs_close(in);
}

static void test_errors_name_the_place(void **state)
{
    (void)state;
    ws_err err;
    const char *missing[] = {a_path, missing_path};
    ws_inputs *in = ws_inputs_open(missing, 2, &goal_opts, &err);
    json_t **all;
    size_t count;
    assert_int_equal(ws_inputs_read_all(in, &all, &count, &err), WS_ERROR);
    assert_int_equal(count, 2); /* the records before the error are the caller's */
    assert_non_null(strstr(err.msg, "missing.jsonl"));
    for (size_t i = 0; i < count; i++)
        json_decref(all[i]);
    free(all);
    ws_inputs_close(in);

    const char *bad[] = {bad_path};
    in = ws_inputs_open(bad, 1, &goal_opts, &err);
    json_t *rec;
    assert_int_equal(ws_inputs_next(in, &rec, &err), WS_RECORD);
    json_decref(rec);
    assert_int_equal(ws_inputs_next(in, &rec, &err), WS_ERROR);
    assert_non_null(strstr(err.msg, "bad.jsonl:2"));
    ws_err here;
    ws_fail(&here, "goal refused");
    ws_inputs_fail_here(in, &here); /* the last record handed out: line 1 */
    assert_non_null(strstr(here.msg, "bad.jsonl:1: goal refused"));
    ws_inputs_close(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_records_in_order), cmocka_unit_test(test_batches_and_read_all),
                                       cmocka_unit_test(test_errors_name_the_place)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
