/* records: read record streams (plain or zstd) and write them back out, checked. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "inputs.h"
#include "interrupt.h"
#include "progress.h"
#include "stream.h"

static void usage(void)
{
    printf("Usage: records [OPTION]... [FILE]...\n"
           "Concatenate record streams (JSON lines, plain or zstd, '-' or none = stdin), check that\n"
           "every line is a JSON object record, and write them to stdout or FILE.\n"
           "Converts between plain and zstd; validates type and schema version with --type.\n\n"
           "  -t, --type NAME    every record must be of this type...\n"
           "  -V, --schema N     ...and this schema version [1]\n"
           "  -e, --allow-empty  an input without records is not an error\n"
           "  -n, --head N       only the first N records of the inputs together\n"
           "  -o, --output FILE  write to FILE (zstd when it ends in .zst) instead of stdout\n"
           "  -z, --zstd         compress the output with zstd\n"
           "  -l, --level N      zstd level (1-19) [3]\n"
           "  -c, --count        print only the number of records\n"
           "  -q, --quiet        no progress on stderr\n"
           "      --help         show this help\n"
           "      --version      show the version\n\n"
           WS_CLI_EXIT_STATUS_HELP "Interrupted, it keeps the complete records, as FILE.partial for -o FILE.\n");
}

int main(int argc, char **argv)
{
    ws_cli cli = {.tool = "records"};
    const char *output = "-";
    ws_reader_opts ro = {.version = 1};
    ws_writer_opts wo = {WS_COMPRESS_AUTO, 0};
    int count_only = 0;
    long head = -1; /* -1: all */
    enum { OPT_HELP = 256, OPT_VERSION };
    static const struct option longopts[] = {
        {"type", required_argument, 0, 't'}, {"schema", required_argument, 0, 'V'},
        {"allow-empty", no_argument, 0, 'e'}, {"head", required_argument, 0, 'n'}, {"output", required_argument, 0, 'o'},
        {"zstd", no_argument, 0, 'z'}, {"level", required_argument, 0, 'l'},
        {"count", no_argument, 0, 'c'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, OPT_HELP}, {"version", no_argument, 0, OPT_VERSION}, {0, 0, 0, 0}};
    int c;
    while ((c = ws_cli_getopt(&cli, argc, argv, "t:V:en:o:zl:cq", longopts, NULL)) != -1) {
        switch (c) {
        case 't': ro.type = optarg; break;
        case 'V': ro.version = (int)ws_cli_long(&cli, "--schema", optarg, 1, 1000); break;
        case 'e': ro.allow_empty = 1; break;
        case 'n': head = ws_cli_long(&cli, "--head", optarg, 0, 0x7fffffffffffffffL); break;
        case 'o': output = optarg; break;
        case 'z': wo.compress = WS_COMPRESS_YES; break;
        case 'l': wo.level = (int)ws_cli_long(&cli, "--level", optarg, 1, 19); break;
        case 'c': count_only = 1; break;
        case 'q': cli.quiet = 1; break;
        case OPT_HELP: usage(); return 0;
        case OPT_VERSION: ws_cli_version(&cli); return 0;
        default: ws_cli_usage_error(&cli, "unknown option");
        }
    }
    ws_interrupt_install();
    ws_err err;
    ws_writer *w = NULL;
    if (!count_only && !(w = ws_writer_open(output, &wo, &err)))
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    ws_progress progress;
    ws_progress_start(&progress, cli.tool, "records", 0, cli.quiet);
    long total = 0;
    ws_inputs *in = ws_inputs_open((const char *const *)argv + optind, argc - optind, &ro, &err);
    json_t *rec;
    int rc = in ? WS_EOF : WS_ERROR;
    while (in && total != head && !ws_interrupted() && (rc = ws_inputs_next(in, &rec, &err)) == WS_RECORD) {
        int bad = w && ws_writer_put(w, rec, &err);
        json_decref(rec);
        if (bad) {
            rc = WS_ERROR;
            break;
        }
        ws_progress_update(&progress, ++total);
    }
    ws_inputs_close(in);
    if (rc == WS_ERROR) {
        ws_writer_discard(w);
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    }
    if (count_only) {
        printf("%ld\n", total);
        return ws_interrupted() ? ws_interrupt_status() : 0;
    }
    int status = ws_cli_close_output(&cli, w);
    if (total > 1000)
        ws_progress_end(&progress);
    return status;
}
