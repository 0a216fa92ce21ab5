/* goals: emit WebShop goal records for a split. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cli.h"
#include "goals.h"
#include "interrupt.h"
#include "stream.h"

static void usage(void)
{
    printf("Usage: goals [OPTION]...\n"
           "Write the goal records of one split of the WebShop catalog, one JSON line each.\n\n"
           "  -s, --split NAME   test (goals 0-499), eval (500-1499), train (the rest) or all [test]\n"
           "      --human        human-written goals (products' \"instructions\") instead of synthetic\n"
           "      --human-file FILE  human goals from FILE (WebShop's items_human_ins.json format);\n"
           "                     implies --human\n"
           "      --seed N       seed of prices, goal prices and the shuffle [" WS_DEFAULT_CATALOG_SEED_TEXT "]\n"
           "  -n, --limit N      at most N goals\n"
           "  -d, --data DIR     catalog directory [$WEBSHOP_DATA or ../shared/webshop-1k]\n"
           "  -o, --output FILE  write to FILE (zstd when it ends in .zst) instead of stdout\n"
           "  -z, --zstd         compress the output with zstd\n"
           "  -q, --quiet        no progress or summary on stderr\n"
           "      --help         show this help\n"
           "      --version      show the version\n\n"
           WS_CLI_EXIT_STATUS_HELP "Interrupted, it keeps the complete goals, as FILE.partial for -o FILE.\n");
}

int main(int argc, char **argv)
{
    ws_cli cli = {.tool = "goals"};
    const char *split = "test", *data = NULL, *output = "-";
    long seed = WS_DEFAULT_CATALOG_SEED, limit = -1;
    ws_goal_source source = WS_GOALS_SYNTHETIC;
    ws_writer_opts wo = {WS_COMPRESS_AUTO, 0};
    const char *human_file = NULL;
    enum { OPT_HUMAN = 256, OPT_HUMAN_FILE, OPT_SEED, OPT_HELP, OPT_VERSION };
    static const struct option longopts[] = {
        {"split", required_argument, 0, 's'}, {"human", no_argument, 0, OPT_HUMAN},
        {"human-file", required_argument, 0, OPT_HUMAN_FILE},
        {"seed", required_argument, 0, OPT_SEED}, {"limit", required_argument, 0, 'n'},
        {"data", required_argument, 0, 'd'}, {"output", required_argument, 0, 'o'},
        {"zstd", no_argument, 0, 'z'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, OPT_HELP}, {"version", no_argument, 0, OPT_VERSION}, {0, 0, 0, 0}};
    int c;
    while ((c = ws_cli_getopt(&cli, argc, argv, "s:n:d:o:zq", longopts, NULL)) != -1) {
        switch (c) {
        case 's': split = optarg; break;
        case OPT_HUMAN: source = WS_GOALS_HUMAN; break;
        case OPT_HUMAN_FILE: source = WS_GOALS_HUMAN; human_file = optarg; break;
        case OPT_SEED: seed = ws_cli_long(&cli, "--seed", optarg, 0, 0x7fffffffL); break;
        case 'n': limit = ws_cli_long(&cli, "--limit", optarg, 0, 0x7fffffffL); break;
        case 'd': data = optarg; break;
        case 'o': output = optarg; break;
        case 'z': wo.compress = WS_COMPRESS_YES; break;
        case 'q': cli.quiet = 1; break;
        case OPT_HELP: usage(); return 0;
        case OPT_VERSION: ws_cli_version(&cli); return 0;
        default: ws_cli_usage_error(&cli, "unknown option");
        }
    }
    if (optind < argc)
        ws_cli_usage_error(&cli, "unexpected argument '%s'", argv[optind]);
    if (!ws_split_valid(split))
        ws_cli_usage_error(&cli, "--split: expected test, eval, train or all, got '%s'", split);

    char dirbuf[4096];
    const char *dir = ws_cli_data_dir(&cli, data, dirbuf, sizeof dirbuf);
    ws_interrupt_install();

    ws_err err;
    ws_catalog cat;
    if (ws_catalog_load(&cat, dir, (uint64_t)seed, &err))
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    if (human_file && ws_catalog_load_human_goals(&cat, human_file, &err))
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    ws_goal_set goals;
    if (ws_goals_build(&cat, source, (uint64_t)seed, &goals, &err))
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);

    ws_writer *w = ws_writer_open(output, &wo, &err);
    if (!w)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    long written = 0;
    for (size_t id = 0; id < goals.n && (limit < 0 || written < limit) && !ws_interrupted(); id++) {
        if (!ws_split_matches(split, (long)id))
            continue;
        json_t *goal = ws_goals_get(&goals, id, &err);
        if (!goal || ws_writer_put(w, goal, &err)) {
            json_decref(goal);
            ws_writer_discard(w);
            ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
        }
        json_decref(goal);
        written++;
    }
    int status = ws_cli_close_output(&cli, w);
    if (!cli.quiet)
        fprintf(stderr, "goals: %ld %s goals of split %s (%zu in all, %zu products)\n", written,
                source == WS_GOALS_HUMAN ? "human" : "synthetic", split, goals.n, cat.n);
    ws_goals_free(&goals);
    ws_catalog_free(&cat);
    return status;
}
