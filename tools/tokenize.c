/* tokenize: trajectory or pair records in, tokens records (WordPiece ids + labels) out.
 *
 * A trajectory gives one tokens record per step: state = the step's observation, actions = its
 * valid actions, target = its action_index; a step whose action was not among the valid ones
 * (action_index -1) has no label and is skipped (counted in the summary on stderr). A pair gives
 * one record: chosen/rejected = chosen_index/rejected_index, ref_logp_chosen/ref_logp_rejected
 * carried over when present. The input type is read from each record's "type".
 *
 * Sequences are framed as BERT expects: [CLS] text [SEP]. A state has at most --max-state-len ids
 * in all (default 512, BERT's position limit, WebShop's max_length for states), an action at most
 * --max-action-len (default 128, WebShop's train_choice_il.py; its RL agent used 64). Every text
 * goes through lib/model/encode (ws_encode_text), the same function the agent uses when it acts, so a
 * model trained on these records sees at rollout time exactly the encoding it learned on.
 *
 * Truncation (lib/model/encode's rule) cuts the END of a text and keeps its beginning: every WebShop
 * observation starts with the instruction ("WebShop [SEP] Instruction: [SEP] <instruction> ..." on
 * the search page, "Instruction: [SEP] <instruction> [SEP] Back to Search ..." on the others), and
 * the instruction is what the choice must be conditioned on; what falls off is the tail of a long
 * page (the last results of a page, the end of a long description or review list), while the
 * actions themselves are encoded separately and never lost. (WebShop's baseline tokenizer cut the
 * other end, truncation_side='left', losing the instruction on long pages.) */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "encode.h"
#include "env.h"
#include "inputs.h"
#include "interrupt.h"
#include "progress.h"
#include "schemas.h"
#include "stream.h"
#include "trajectory.h"
#include "wordpiece.h"

static void usage(void)
{
    printf("Usage: tokenize [OPTION]... [FILE]...\n"
           "Turn trajectory or pair records (stdin or FILEs, plain or zstd; the type is read from each\n"
           "record) into tokens records: the WordPiece ids of each state and of its valid actions,\n"
           "with the training labels. BERT's uncased tokenizer, exactly as Hugging Face's, plus\n"
           "WebShop's added tokens [button] [button_] [clicked button] [clicked button_].\n\n"
           "  trajectory -> one record per step: state = obs, actions = the valid actions,\n"
           "                target = action_index; steps with action_index -1 are skipped (counted);\n"
           "                with --oracle-target, target = oracle_index (rollout --oracle-labels:\n"
           "                the oracle's action in the state the agent reached, i.e. DAgger)\n"
           "  pair       -> one record: chosen, rejected (+ ref_logp_chosen/rejected, ref_sha256 when present)\n\n"
           "Each sequence is [CLS] tokens [SEP]; the maximum lengths count both. A longer text is\n"
           "cut at the end (lib/model/encode, as the agent does when it acts): every WebShop observation\n"
           "starts with the instruction, the part the choice depends on, and the actions are\n"
           "encoded apart, so only the tail of a long page (last results, end of a description) is\n"
           "lost. A summary (records, ids, sequences truncated, steps skipped) goes to stderr.\n\n"
           "      --vocab FILE          BERT vocab.txt [$WEBSHOP_MODEL/vocab.txt, else\n"
           "                            models/minilm-l6/vocab.txt in the working directory or the\n"
           "                            project this program was built in; 'make model' fetches it]\n"
           "      --max-state-len N     ids per state at most, 2-100000 [512]\n"
           "      --max-action-len N    ids per action at most, 2-100000 [128]\n"
           "                            (rollout --model takes the same two options: use the\n"
           "                            same values when the trained model acts)\n"
           "      --oracle-target       trajectories: the oracle's action is the target (above)\n"
           "  -o, --output FILE         write to FILE (zstd when it ends in .zst) instead of stdout\n"
           "  -z, --zstd                compress the output with zstd\n"
           "  -q, --quiet               no progress or summary on stderr\n"
           "      --help, --version\n\n"
           WS_CLI_EXIT_STATUS_HELP "Interrupted, it keeps the complete records, as FILE.partial for -o FILE.\n");
}

typedef struct opts {
    int max_state, max_action;
    int oracle_target; /* target = the step's oracle_index (DAgger) instead of action_index */
} opts;

typedef struct counts {
    long inputs, outputs, skipped, truncated, ids;
} counts;

/* [CLS] + ids of text (cut to fit max) + [SEP] as a JSON array; NULL with err filled on failure. */
static json_t *encode_seq(const ws_vocab *v, json_t *text, int max, counts *c, ws_err *err)
{
    int32_t *ids;
    int n;
    if (ws_encode_text(v, json_string_value(text), max, &ids, &n, err))
        return NULL;
    if (n == max) { /* at the limit: cut, unless the text fits exactly */
        int32_t *all;
        size_t k;
        if (ws_wordpiece_encode(v, json_string_value(text), &all, &k, err)) {
            free(ids);
            return NULL;
        }
        free(all);
        c->truncated += k > (size_t)max - 2;
    }
    json_t *a = json_array();
    int bad = !a;
    for (int i = 0; i < n && !bad; i++)
        bad = json_array_append_new(a, json_integer(ids[i]));
    free(ids);
    if (bad) {
        json_decref(a);
        return ws_fail(err, "out of memory"), NULL;
    }
    c->ids += n;
    return a;
}

/* The tokens record of one state: obs and actions encoded; labels are added by the caller. */
static json_t *state_record(const ws_vocab *v, const opts *o, json_t *goal_id, long step, json_t *obs,
                            json_t *actions, counts *c, const char *where, ws_err *err)
{
    json_t *rec = json_pack("{s:s, s:i, s:O, s:I}", "type", "tokens", "v", WS_TOKENS_VERSION, "goal_id", goal_id,
                            "step", (json_int_t)step);
    json_t *acts = json_array();
    if (!rec || !acts) {
        json_decref(rec);
        json_decref(acts);
        return ws_fail(err, "out of memory"), NULL;
    }
    long before = c->truncated;
    json_t *st = encode_seq(v, obs, o->max_state, c, err);
    if (!st) {
        ws_fail_prefix(err, where);
        goto fail;
    }
    json_object_set_new(rec, "state", st);
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a) {
        json_t *ids = encode_seq(v, a, o->max_action, c, err);
        if (!ids) {
            char w[768];
            snprintf(w, sizeof w, "%s: actions[%zu]", where, i);
            ws_fail_prefix(err, w);
            goto fail;
        }
        json_array_append_new(acts, ids);
    }
    json_object_set_new(rec, "actions", acts);
    acts = NULL;
    if (c->truncated > before)
        json_object_set_new(rec, "truncated", json_integer(c->truncated - before));
    json_object_set_new(rec, "vocab_sha256", json_string(ws_vocab_sha256(v)));
    return rec;
fail:
    json_decref(acts);
    json_decref(rec);
    return NULL;
}

static int is_string_array(const json_t *a)
{
    if (!json_is_array(a))
        return 0;
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x) if (!json_is_string(x)) return 0;
    return 1;
}

static int check_goal_id(const json_t *rec, ws_err *err, const char *where)
{
    json_t *g = json_object_get(rec, "goal_id");
    if (!json_is_integer(g) || json_integer_value(g) < 0)
        return ws_fail(err, "%s: \"goal_id\" must be a non-negative integer", where);
    return 0;
}

static int put(ws_writer *w, json_t *rec, counts *c, ws_err *err)
{
    int rc = ws_writer_put(w, rec, err);
    json_decref(rec);
    if (rc == 0)
        c->outputs++;
    return rc;
}

static int do_trajectory(const ws_vocab *v, const opts *o, const json_t *t, ws_writer *w, counts *c,
                         const char *where, ws_err *err)
{
    if (check_goal_id(t, err, where))
        return -1;
    json_t *steps = json_object_get(t, "steps");
    if (!json_is_array(steps))
        return ws_fail(err, "%s: trajectory has no \"steps\" array", where);
    json_t *reward = json_object_get(t, "reward"), *success = json_object_get(t, "success");
    json_t *policy = json_object_get(t, "policy");
    size_t i;
    json_t *s;
    json_array_foreach(steps, i, s) {
        char at[640];
        snprintf(at, sizeof at, "%s: steps[%zu]", where, i);
        json_t *obs = json_object_get(s, "obs"), *acts = json_object_get(s, "actions");
        json_t *idx = json_object_get(s, o->oracle_target ? "oracle_index" : "action_index");
        if (!json_is_string(obs))
            return ws_fail(err, "%s: \"obs\" must be a string", at);
        if (!is_string_array(acts))
            return ws_fail(err, "%s: \"actions\" must be an array of strings", at);
        if (!json_is_integer(idx))
            return ws_fail(err, "%s: \"%s\" must be an integer%s", at, o->oracle_target ? "oracle_index" : "action_index",
                           o->oracle_target ? " (--oracle-target takes rollout --oracle-labels trajectories)" : "");
        json_int_t k = json_integer_value(idx);
        if (k < -1 || k >= (json_int_t)json_array_size(acts))
            return ws_fail(err, "%s: action_index %" JSON_INTEGER_FORMAT " out of range (%zu actions)", at, k,
                           json_array_size(acts));
        if (ws_step_check_index(s, o->oracle_target, err))
            return ws_fail_prefix(err, at);
        if (k == -1) {
            c->skipped++;
            continue;
        }
        json_t *rec = state_record(v, o, json_object_get(t, "goal_id"), (long)i, obs, acts, c, at, err);
        if (!rec)
            return -1;
        json_object_set_new(rec, "target", json_integer(k));
        const char *taken = json_string_value(json_array_get(acts, (size_t)k));
        json_object_set_new(rec, "kind", json_string(ws_decision_kind_name(ws_decision_kind_of(taken, json_string_value(obs)))));
        if (json_is_number(reward))
            json_object_set(rec, "reward", reward);
        if (json_is_boolean(success))
            json_object_set(rec, "success", success);
        if (json_is_string(policy))
            json_object_set(rec, "policy", policy);
        if (put(w, rec, c, err))
            return -1;
    }
    return 0;
}

static int do_pair(const ws_vocab *v, const opts *o, const json_t *p, ws_writer *w, counts *c, const char *where,
                   ws_err *err)
{
    if (check_goal_id(p, err, where))
        return -1;
    json_t *step = json_object_get(p, "step"), *obs = json_object_get(p, "obs");
    json_t *acts = json_object_get(p, "actions");
    json_t *ch = json_object_get(p, "chosen_index"), *rj = json_object_get(p, "rejected_index");
    if (!json_is_integer(step) || json_integer_value(step) < 0)
        return ws_fail(err, "%s: \"step\" must be a non-negative integer", where);
    if (!json_is_string(obs))
        return ws_fail(err, "%s: \"obs\" must be a string", where);
    if (!is_string_array(acts))
        return ws_fail(err, "%s: \"actions\" must be an array of strings", where);
    size_t na = json_array_size(acts);
    const char *names[2] = {"chosen_index", "rejected_index"};
    json_t *ix[2] = {ch, rj};
    for (int k = 0; k < 2; k++) {
        if (!json_is_integer(ix[k]))
            return ws_fail(err, "%s: \"%s\" must be an integer", where, names[k]);
        json_int_t x = json_integer_value(ix[k]);
        if (x < 0 || (size_t)x >= na)
            return ws_fail(err, "%s: %s %" JSON_INTEGER_FORMAT " out of range (%zu actions)", where, names[k], x,
                           na);
    }
    json_t *rec = state_record(v, o, json_object_get(p, "goal_id"), (long)json_integer_value(step), obs, acts, c,
                               where, err);
    if (!rec)
        return -1;
    json_object_set(rec, "chosen", ch);
    json_object_set(rec, "rejected", rj);
    const char *carry[] = {"ref_logp_chosen", "ref_logp_rejected"};
    for (int k = 0; k < 2; k++) {
        json_t *x = json_object_get(p, carry[k]);
        if (json_is_number(x))
            json_object_set(rec, carry[k], x);
    }
    json_t *ref = json_object_get(p, "ref_sha256");
    if (json_is_string(ref))
        json_object_set(rec, "ref_sha256", ref);
    json_t *src = json_object_get(p, "source");
    if (json_is_string(src))
        json_object_set(rec, "source", src);
    return put(w, rec, c, err);
}

static int do_record(const ws_vocab *v, const opts *o, const ws_inputs *in, const json_t *rec, ws_writer *w,
                     counts *c, ws_err *err)
{
    char where[512];
    ws_inputs_where(in, where, sizeof where);
    const char *type = json_string_value(json_object_get(rec, "type"));
    json_t *ver = json_object_get(rec, "v");
    if (!type)
        return ws_fail(err, "%s: record has no \"type\" (expected a trajectory or pair record)", where);
    int traj = strcmp(type, "trajectory") == 0, pair = strcmp(type, "pair") == 0;
    if (!traj && !pair)
        return ws_fail(err, "%s: expected a trajectory or pair record, got a %s record", where, type);
    int want = traj ? WS_TRAJECTORY_VERSION : WS_PAIR_VERSION;
    if (!json_is_integer(ver))
        return ws_fail(err, "%s: %s record has no integer \"v\" (schema version)", where, type);
    if (json_integer_value(ver) != want)
        return ws_fail(err, "%s: %s record of schema version %" JSON_INTEGER_FORMAT ", this build reads version %d",
                       where, type, json_integer_value(ver), want);
    c->inputs++;
    return traj ? do_trajectory(v, o, rec, w, c, where, err) : do_pair(v, o, rec, w, c, where, err);
}

int main(int argc, char **argv)
{
    ws_cli cli = {.tool = "tokenize"};
    const char *output = "-", *vocab_path = NULL;
    opts o = {.max_state = WS_DEFAULT_MAX_STATE_LEN, .max_action = WS_DEFAULT_MAX_ACTION_LEN};
    ws_writer_opts wo = {WS_COMPRESS_AUTO, 0};
    enum { OPT_VOCAB = 256, OPT_MAX_STATE, OPT_MAX_ACTION, OPT_ORACLE_TARGET, OPT_HELP, OPT_VERSION };
    static const struct option longopts[] = {
        {"vocab", required_argument, 0, OPT_VOCAB}, {"max-state-len", required_argument, 0, OPT_MAX_STATE},
        {"max-action-len", required_argument, 0, OPT_MAX_ACTION}, {"output", required_argument, 0, 'o'},
        {"oracle-target", no_argument, 0, OPT_ORACLE_TARGET},
        {"zstd", no_argument, 0, 'z'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, OPT_HELP}, {"version", no_argument, 0, OPT_VERSION}, {0, 0, 0, 0}};
    int c;
    while ((c = ws_cli_getopt(&cli, argc, argv, "o:zq", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_VOCAB: vocab_path = optarg; break;
        case OPT_MAX_STATE: o.max_state = (int)ws_cli_long(&cli, "--max-state-len", optarg, 2, 100000); break;
        case OPT_MAX_ACTION: o.max_action = (int)ws_cli_long(&cli, "--max-action-len", optarg, 2, 100000); break;
        case OPT_ORACLE_TARGET: o.oracle_target = 1; break;
        case 'o': output = optarg; break;
        case 'z': wo.compress = WS_COMPRESS_YES; break;
        case 'q': cli.quiet = 1; break;
        case OPT_HELP: usage(); return 0;
        case OPT_VERSION: ws_cli_version(&cli); return 0;
        default: ws_cli_usage_error(&cli, "unknown option");
        }
    }
    ws_err err;
    char vbuf[PATH_MAX + 64];
    int by_default = !vocab_path;
    if (by_default)
        vocab_path = ws_vocab_path(NULL, vbuf, sizeof vbuf);
    ws_vocab *v = ws_vocab_load(vocab_path, &err);
    if (!v)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s%s", err.msg, by_default ? " (run 'make model' to fetch it)" : "");
    ws_interrupt_install();
    ws_writer *w = ws_writer_open(output, &wo, &err);
    if (!w)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    counts n = {0};
    ws_progress progress;
    ws_progress_start(&progress, cli.tool, "records", 0, cli.quiet);
    ws_reader_opts ro = {.type = NULL}; /* trajectories or pairs: do_record checks type and version */
    ws_inputs *in = ws_inputs_open((const char *const *)argv + optind, argc - optind, &ro, &err);
    if (!in)
        goto fail;
    json_t *rec;
    int rc = WS_EOF;
    while (!ws_interrupted() && (rc = ws_inputs_next(in, &rec, &err)) == WS_RECORD) {
        int bad = do_record(v, &o, in, rec, w, &n, &err);
        json_decref(rec);
        if (bad) {
            ws_inputs_close(in);
            goto fail;
        }
        ws_progress_update(&progress, n.outputs);
    }
    ws_inputs_close(in);
    if (rc == WS_ERROR)
        goto fail;
    int status = ws_cli_close_output(&cli, w);
    if (!cli.quiet) {
        if (n.outputs > 1000)
            ws_progress_end(&progress);
        fprintf(stderr,
                "tokenize: %ld input records, %ld tokens records, %ld ids, %ld sequences truncated, "
                "%ld steps skipped (action_index -1)\n",
                n.inputs, n.outputs, n.ids, n.truncated, n.skipped);
    }
    ws_vocab_free(v);
    return status;
fail:
    ws_writer_discard(w);
    ws_vocab_free(v);
    ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
}
