/* catalog-convert: WebShop's raw catalog (items_shuffle*.json) to the normalised product stream;
 * with --index, a catalog directory's mapped catalog and search index. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cli.h"
#include "interrupt.h"
#include "jsonarray.h"
#include "progress.h"
#include "rawcatalog.h"
#include "stream.h"

#define MAX_WARNINGS 10

static void usage(void)
{
    printf("Usage: catalog-convert [OPTION]... [RAW.json]\n"
           "Convert WebShop's raw product catalog (items_shuffle.json, items_shuffle_1000.json: one JSON\n"
           "array of scraped products, plain or zstd, '-' or none = stdin) into the normalised product\n"
           "stream the toolchain reads (products.jsonl: {\"id\", \"contents\", \"product\"} per line),\n"
           "exactly as WebShop's loader and search-index script do. Streams: memory stays bounded by\n"
           "the largest product, whatever the size of the catalog.\n\n"
           "A catalog directory is read from its JSON lines at every start unless it holds\n"
           WS_CATALOG_MAPPED_NAME ", which --index builds (make catalog-index DATA=DIR): tools then start in\n"
           "seconds whatever the catalog's size. It records the files it was built from; once they\n"
           "change, loading it is an error until it is rebuilt or removed.\n\n"
           "  -a, --attributes FILE  mined attributes (items_ins_v2*.json); without it every product\n"
           "                         gets Attributes [\"DUMMY_ATTR\"]\n"
           "  -H, --human FILE       human goals (items_human_ins.json): \"instructions\" per ASIN\n"
           "  -n, --limit N          stop after N products written (WebShop's resources_1k is -n 1000)\n"
           "      --strict           a product WebShop's loader would fail on is an error, not a skip\n"
           "      --index DIR        instead: build DIR/" WS_CATALOG_MAPPED_NAME " (the mapped catalog and search\n"
           "                         index every tool then maps instead of reading the JSON) from\n"
           "                         DIR/products.jsonl.zst and DIR/items_ins_v2_1000.json\n"
           "  -o, --output FILE      write to FILE (zstd when it ends in .zst) instead of stdout\n"
           "  -z, --zstd             compress the output with zstd\n"
           "  -l, --level N          zstd level (1-19) [3]\n"
           "  -q, --quiet            no progress, warnings or summary on stderr\n"
           "      --help             show this help\n"
           "      --version          show the version\n\n"
           "Products are skipped as WebShop skips them (ASIN \"nan\" or longer than 10 characters, an ASIN\n"
           "seen before) and, unless --strict, when WebShop's loader would fail on them (a missing\n"
           "field, a price text that is not a number, no image); the summary counts each reason.\n\n"
           WS_CLI_EXIT_STATUS_HELP "Interrupted, it keeps the complete products, as FILE.partial for -o FILE.\n");
}

static const char *reason_name(int rc)
{
    return rc == WS_RAW_BAD_ASIN ? "bad ASIN" : rc == WS_RAW_DUPLICATE ? "duplicate ASIN" : "malformed";
}

int main(int argc, char **argv)
{
    ws_cli cli = {.tool = "catalog-convert"};
    const char *output = "-", *attributes_path = NULL, *human_path = NULL;
    long limit = -1;
    int strict = 0;
    ws_writer_opts wo = {WS_COMPRESS_AUTO, 0};
    const char *index_dir = NULL;
    enum { OPT_STRICT = 256, OPT_INDEX, OPT_HELP, OPT_VERSION };
    static const struct option longopts[] = {
        {"attributes", required_argument, 0, 'a'}, {"human", required_argument, 0, 'H'},
        {"limit", required_argument, 0, 'n'}, {"strict", no_argument, 0, OPT_STRICT}, {"index", required_argument, 0, OPT_INDEX},
        {"output", required_argument, 0, 'o'}, {"zstd", no_argument, 0, 'z'},
        {"level", required_argument, 0, 'l'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, OPT_HELP}, {"version", no_argument, 0, OPT_VERSION}, {0, 0, 0, 0}};
    int c;
    while ((c = ws_cli_getopt(&cli, argc, argv, "a:H:n:o:zl:q", longopts, NULL)) != -1) {
        switch (c) {
        case 'a': attributes_path = optarg; break;
        case 'H': human_path = optarg; break;
        case 'n': limit = ws_cli_long(&cli, "--limit", optarg, 0, 0x7fffffffffffL); break;
        case OPT_STRICT: strict = 1; break;
        case OPT_INDEX: index_dir = optarg; break;
        case 'o': output = optarg; break;
        case 'z': wo.compress = WS_COMPRESS_YES; break;
        case 'l': wo.level = (int)ws_cli_long(&cli, "--level", optarg, 1, 19); break;
        case 'q': cli.quiet = 1; break;
        case OPT_HELP: usage(); return 0;
        case OPT_VERSION: ws_cli_version(&cli); return 0;
        default: ws_cli_usage_error(&cli, "unknown option");
        }
    }
    if (index_dir) {
        if (optind < argc)
            ws_cli_usage_error(&cli, "--index DIR reads the directory's files, not '%s'", argv[optind]);
        ws_interrupt_install();
        double t0 = ws_now();
        ws_catalog_build_stats st;
        ws_err err;
        if (ws_catalog_build_mapped(index_dir, &st, &err)) {
            if (ws_interrupted())
                return ws_interrupt_status();
            ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
        }
        if (!cli.quiet)
            fprintf(stderr, "catalog-convert: %s/" WS_CATALOG_MAPPED_NAME ": %zu products in %.1f s\n", index_dir,
                    st.products, ws_now() - t0);
        return WS_EXIT_OK;
    }
    if (argc - optind > 1)
        ws_cli_usage_error(&cli, "one raw catalog at a time, got %d (unexpected '%s')", argc - optind,
                           argv[optind + 1]);
    const char *input = optind < argc ? argv[optind] : "-";
    ws_interrupt_install();

    /* The side files first: they are looked up by ASIN while the catalog streams. */
    ws_err err;
    ws_rawcat_table *attributes = NULL, *human = NULL;
    if (attributes_path && !(attributes = ws_rawcat_table_load(attributes_path, WS_RAWCAT_ATTRIBUTES, &err))) {
        if (ws_interrupted())
            return ws_interrupt_status();
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    }
    if (human_path && !(human = ws_rawcat_table_load(human_path, WS_RAWCAT_HUMAN, &err))) {
        if (ws_interrupted())
            return ws_interrupt_status();
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    }
    ws_rawcat *conv = ws_rawcat_new(attributes, human, &err);
    if (!conv)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    ws_jsonarray *in = ws_jsonarray_open(input, NULL, &err);
    if (!in)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    ws_writer *w = ws_writer_open(output, &wo, &err);
    if (!w)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);

    ws_progress progress;
    ws_progress_start(&progress, cli.tool, "products", 0, cli.quiet);
    double started = ws_now();
    long warned = 0, unparsed = 0; /* unparsed: elements Jansson rejects (counted as malformed) */
    int rc = WS_EOF;
    json_t *raw;
    while (limit < 0 || ws_rawcat_get_counts(conv)->written < limit) {
        rc = ws_jsonarray_next(in, &raw, &err);
        if (rc == WS_ERROR && ws_jsonarray_can_continue(in) && !strict) {
            unparsed++;
            if (!cli.quiet && warned++ < MAX_WARNINGS)
                ws_cli_warn(&cli, "skipped: %s%s", err.msg,
                            warned == MAX_WARNINGS ? " (further malformed products are only counted)" : "");
            continue;
        }
        if (rc != WS_RECORD)
            break;
        json_t *doc;
        int got = ws_rawcat_convert(conv, raw, &doc, &err);
        json_decref(raw);
        if (got == WS_RAW_DOC) {
            int bad = ws_writer_put(w, doc, &err);
            json_decref(doc);
            if (bad) {
                rc = WS_ERROR;
                break;
            }
        } else if (got == WS_RAW_FAILED || (got == WS_RAW_MALFORMED && strict)) {
            char why[sizeof err.msg];
            snprintf(why, sizeof why, "%s", err.msg);
            ws_fail(&err, "%s: element [%ld] at byte offset %" PRIu64 ": %s%s", ws_jsonarray_name(in),
                    ws_jsonarray_index(in), ws_jsonarray_element_offset(in), why,
                    got == WS_RAW_MALFORMED ? " (WebShop's loader would fail on it)" : "");
            rc = WS_ERROR;
            break;
        } else if (got == WS_RAW_MALFORMED && !cli.quiet && warned++ < MAX_WARNINGS) {
            ws_cli_warn(&cli, "%s: element [%ld] at byte offset %" PRIu64 ": skipped, %s: %s%s",
                        ws_jsonarray_name(in), ws_jsonarray_index(in), ws_jsonarray_element_offset(in),
                        reason_name(got), err.msg,
                        warned == MAX_WARNINGS ? " (further malformed products are only counted)" : "");
        }
        ws_progress_update(&progress, ws_rawcat_get_counts(conv)->read + unparsed);
        if (ws_interrupted())
            break;
    }
    if (rc == WS_RECORD)
        rc = WS_EOF; /* stopped at --limit or by a signal */
    if (rc == WS_ERROR) {
        ws_writer_discard(w);
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    }
    int status = ws_cli_close_output(&cli, w);
    double elapsed = ws_now() - started;
    ws_rawcat_counts n_all = *ws_rawcat_get_counts(conv), *n = &n_all;
    n->read += unparsed;
    n->malformed += unparsed;
    if (n->read > 1000)
        ws_progress_end(&progress);
    if (!cli.quiet) {
        double mb = (double)ws_jsonarray_offset(in) / 1e6;
        fprintf(stderr,
                "catalog-convert: %ld products read, %ld written; skipped %ld (%ld ASIN \"nan\" or longer than"
                " 10 characters, %ld duplicate ASIN, %ld malformed)%s\n",
                n->read, n->written, n->bad_asin + n->duplicate + n->malformed, n->bad_asin, n->duplicate,
                n->malformed, limit >= 0 && n->written >= limit ? "; stopped at --limit" : "");
        fprintf(stderr, "catalog-convert: %.1f MB in %.2f s (%.0f products/s, %.1f MB/s); %zu attribute entries,"
                " %zu human-goal entries; lookup tables %.1f MB\n", mb, elapsed,
                elapsed > 0 ? (double)n->read / elapsed : 0.0, elapsed > 0 ? mb / elapsed : 0.0,
                ws_rawcat_table_size(attributes), ws_rawcat_table_size(human),
                (double)(ws_rawcat_table_bytes(attributes) + ws_rawcat_table_bytes(human) + ws_rawcat_bytes(conv)) / 1e6);
    }
    ws_jsonarray_close(in);
    ws_rawcat_free(conv);
    ws_rawcat_table_free(attributes);
    ws_rawcat_table_free(human);
    return status;
}
