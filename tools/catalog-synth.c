/* catalog-synth: a synthetic WebShop raw catalog of any size (a test and benchmark tool). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cli.h"
#include "interrupt.h"
#include "progress.h"
#include "stream.h"
#include "synthcatalog.h"

static void usage(void)
{
    printf("Usage: catalog-synth -n N [OPTION]...\n"
           "Write a synthetic catalog of N products in WebShop's raw format (items_shuffle.json: one JSON\n"
           "array), and with --attributes the matching attributes file (items_ins_v2.json: ASIN ->\n"
           "attributes and instruction), for catalog-convert. A test and benchmark tool: each product\n"
           "recombines products of one category and query of the source catalog (title from two titles;\n"
           "description, bullet points, option groups and price, scaled, each from one), so titles are\n"
           "new and search is not exact. ASINs are SYN0000000, SYN0000001, ... The same N, seed and\n"
           "source give the same bytes; a smaller N gives a prefix. Streams: memory is the source\n"
           "catalog's, whatever N.\n\n"
           "  -n, --products N       how many products (1 to %lld)\n"
           "      --seed N           seed of every draw [" WS_DEFAULT_CATALOG_SEED_TEXT "]\n"
           "  -d, --data DIR         source catalog directory [$WEBSHOP_DATA or ../shared/webshop-1k]\n"
           "  -o, --output FILE      the raw catalog to FILE (zstd when it ends in .zst) instead of stdout\n"
           "  -a, --attributes FILE  the attributes file to FILE (zstd when it ends in .zst)\n"
           "  -z, --zstd             compress both with zstd\n"
           "  -l, --level N          zstd level (1-19) [3]\n"
           "  -q, --quiet            no progress or summary on stderr\n"
           "      --help             show this help\n"
           "      --version          show the version\n\n"
           "Then: catalog-convert -a ATTRIBUTES -o DIR/products.jsonl.zst CATALOG, the attributes file\n"
           "copied to DIR/items_ins_v2_1000.json, catalog-convert --index DIR (the mapped catalog and\n"
           "search index: tools then start in seconds), and --data DIR for goals and the players.\n\n"
           WS_CLI_EXIT_STATUS_HELP "Interrupted, it keeps the complete products (a valid array, with their attributes),\n"
           "as FILE.partial for -o FILE.\n",
           WS_SYNTH_MAX_PRODUCTS);
}

/* Both outputs go wrong together: neither name may hold a result the other lacks. */
static void die_writing(const ws_cli *cli, ws_writer *out, ws_writer *attrs, const ws_err *err)
{
    ws_writer_discard(out);
    ws_writer_discard(attrs);
    ws_cli_die(cli, WS_EXIT_FAIL, "%s", err->msg);
}

/* One value's serialisation, kept between calls. */
typedef struct serialised {
    char *s;
    size_t len, cap;
} serialised;

static int put_json(ws_writer *w, const json_t *value, serialised *buf, ws_err *err)
{
    buf->len = 0;
    if (ws_json_append(value, &buf->s, &buf->len, &buf->cap))
        return ws_fail(err, "%s: out of memory serialising a product", ws_writer_name(w));
    return ws_writer_put_text(w, buf->s, buf->len, err);
}

int main(int argc, char **argv)
{
    ws_cli cli = {.tool = "catalog-synth"};
    const char *output = "-", *attributes_path = NULL, *data = NULL;
    long long n = -1;
    long seed = WS_DEFAULT_CATALOG_SEED;
    ws_writer_opts wo = {WS_COMPRESS_AUTO, 0};
    enum { OPT_SEED = 256, OPT_HELP, OPT_VERSION };
    static const struct option longopts[] = {
        {"products", required_argument, 0, 'n'}, {"seed", required_argument, 0, OPT_SEED},
        {"data", required_argument, 0, 'd'}, {"output", required_argument, 0, 'o'},
        {"attributes", required_argument, 0, 'a'}, {"zstd", no_argument, 0, 'z'},
        {"level", required_argument, 0, 'l'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, OPT_HELP}, {"version", no_argument, 0, OPT_VERSION}, {0, 0, 0, 0}};
    int c;
    while ((c = ws_cli_getopt(&cli, argc, argv, "n:d:o:a:zl:q", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': n = ws_cli_long(&cli, "--products", optarg, 1, WS_SYNTH_MAX_PRODUCTS); break;
        case OPT_SEED: seed = ws_cli_long(&cli, "--seed", optarg, 0, 0x7fffffffL); break;
        case 'd': data = optarg; break;
        case 'o': output = optarg; break;
        case 'a': attributes_path = optarg; break;
        case 'z': wo.compress = WS_COMPRESS_YES; break;
        case 'l': wo.level = (int)ws_cli_long(&cli, "--level", optarg, 1, 19); break;
        case 'q': cli.quiet = 1; break;
        case OPT_HELP: usage(); return 0;
        case OPT_VERSION: ws_cli_version(&cli); return 0;
        default: ws_cli_usage_error(&cli, "unknown option");
        }
    }
    if (optind < argc)
        ws_cli_usage_error(&cli, "unexpected argument '%s'", argv[optind]);
    if (n < 0)
        ws_cli_usage_error(&cli, "-n/--products: how many products is required");
    if (attributes_path && strcmp(attributes_path, "-") == 0 && strcmp(output, "-") == 0)
        ws_cli_usage_error(&cli, "the catalog and the attributes cannot both go to stdout");

    char dirbuf[4096];
    const char *dir = ws_cli_data_dir(&cli, data, dirbuf, sizeof dirbuf);
    ws_interrupt_install();
    ws_err err;
    ws_catalog source;
    if (ws_catalog_load_json(&source, dir, WS_DEFAULT_CATALOG_SEED, &err)) {
        if (ws_interrupted())
            return ws_interrupt_status();
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    }
    ws_synth *synth = ws_synth_new(&source, (uint64_t)seed, &err);
    if (!synth)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    ws_writer *out = ws_writer_open(output, &wo, &err), *attrs = NULL;
    if (!out || (attributes_path && !(attrs = ws_writer_open(attributes_path, &wo, &err))))
        die_writing(&cli, out, attrs, &err);

    ws_progress progress;
    ws_progress_start(&progress, cli.tool, "products", (long)n, cli.quiet);
    double started = ws_now();
    serialised buf = {0};
    long long written_attrs = 0;
    if (ws_writer_put_text(out, "[", 1, &err) || (attrs && ws_writer_put_text(attrs, "{", 1, &err)))
        die_writing(&cli, out, attrs, &err);
    for (long long i = 0; i < n && !ws_interrupted(); i++) {
        json_t *raw, *entry;
        if (ws_synth_next(synth, &raw, &entry, &err))
            die_writing(&cli, out, attrs, &err);
        /* One product (one attributes entry) a line: ",\n" before each but the first. */
        int bad = ws_writer_put_text(out, i ? ",\n" : "\n", i ? 2 : 1, &err) || put_json(out, raw, &buf, &err);
        if (!bad && attrs && entry) {
            bad = ws_writer_put_text(attrs, written_attrs ? ",\n" : "\n", written_attrs ? 2 : 1, &err) ||
                  put_json(attrs, json_object_get(raw, "asin"), &buf, &err) ||
                  ws_writer_put_text(attrs, ": ", 2, &err) || put_json(attrs, entry, &buf, &err);
            written_attrs++;
        }
        json_decref(raw);
        json_decref(entry);
        if (bad)
            die_writing(&cli, out, attrs, &err);
        ws_progress_update(&progress, (long)i + 1);
    }
    free(buf.s);
    /* Closed even when interrupted, so that FILE.partial is a complete array of what was made. */
    if (ws_writer_put_text(out, "\n]\n", 3, &err) || (attrs && ws_writer_put_text(attrs, "\n}\n", 3, &err)))
        die_writing(&cli, out, attrs, &err);
    int status = ws_cli_close_output(&cli, out);
    if (attrs) {
        int attrs_status = ws_cli_close_output(&cli, attrs);
        status = status ? status : attrs_status;
    }
    const ws_synth_counts *k = ws_synth_get_counts(synth);
    if (k->products > 1000)
        ws_progress_end(&progress);
    if (!cli.quiet) {
        double elapsed = ws_now() - started;
        fprintf(stderr,
                "catalog-synth: %lld products (%lld with an instruction, %lld with options) from %zu source"
                " products in %zu groups, seed %ld; %.2f s (%.0f products/s)\n",
                k->products, k->with_instruction, k->with_options, ws_synth_sources(synth), ws_synth_groups(synth),
                seed, elapsed, elapsed > 0 ? (double)k->products / elapsed : 0.0);
    }
    ws_synth_free(synth);
    ws_catalog_free(&source);
    return status;
}
