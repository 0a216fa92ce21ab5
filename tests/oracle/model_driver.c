/* Forward pass of the C model for the parity check (tests/oracle/model_parity.py).
 * Usage: model_driver BERT_DIR TOKENS.jsonl OUT.ckpt N
 * Builds the model from the pre-trained BERT directory (random head, seed 1), saves it as a
 * checkpoint for the reference to read, runs one forward pass over the first N tokens records,
 * and prints per decision {"state": encoder rows, "actions": [rows...], "logits", "value"}. */
#include <stdio.h>
#include <stdlib.h>

#include "modelio.h"
#include "train.h"

static json_t *rows(const ws_model *m, int s, int C)
{
    json_t *out = json_array();
    const ws_real *enc = ws_model_encoder_output(m) + (size_t)ws_model_seq_start(m, s) * C;
    for (int t = 0; t < ws_model_seq_len(m, s); t++) {
        json_t *row = json_array();
        for (int c = 0; c < C; c++)
            json_array_append_new(row, json_real(enc[(size_t)t * C + c]));
        json_array_append_new(out, row);
    }
    return out;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: model_driver BERT_DIR TOKENS.jsonl OUT.ckpt N\n");
        return 2;
    }
    ws_err err;
    ws_model *m = ws_modelio_from_bert(argv[1], 30526, WS_SEGMENTS_MATCH, 1, 1, &err);
    ws_dataset d;
    const char *paths[] = {argv[2]};
    if (!m || ws_dataset_load(&d, paths, 1, 0, 30526, ws_model_get_config(m)->max_position, &err)) {
        fprintf(stderr, "model_driver: %s\n", err.msg);
        return 1;
    }
    json_t *cfg = ws_model_config_to_json(ws_model_get_config(m));
    char *cfg_text = json_dumps(cfg, JSON_COMPACT);
    ws_ckpt_meta meta = {.config = cfg_text, .vocab_sha256 = "", .step = 0, .seed = 1};
    if (ws_modelio_save(m, argv[3], &meta, NULL, NULL, &err)) {
        fprintf(stderr, "model_driver: %s\n", err.msg);
        return 1;
    }
    int n = atoi(argv[4]);
    if (n > (int)d.n)
        n = (int)d.n;
    size_t *idx = malloc((size_t)n * sizeof *idx);
    for (int i = 0; i < n; i++)
        idx[i] = (size_t)i;
    ws_batch_builder bb = {0};
    const ws_batch *b = ws_batch_build(&bb, &d, idx, n, &err);
    if (!b || ws_model_forward(m, b, &err)) {
        fprintf(stderr, "model_driver: %s\n", err.msg);
        return 1;
    }
    int C = ws_model_get_config(m)->hidden, a = 0;
    for (int i = 0; i < n; i++) {
        json_t *acts = json_array(), *logits = json_array();
        for (int j = 0; j < b->n_actions[i]; j++, a++) {
            json_array_append_new(acts, rows(m, n + a, C));
            json_array_append_new(logits, json_real(ws_model_logits(m)[a]));
        }
        json_t *rec = json_pack("{s:o, s:o, s:o, s:f}", "state", rows(m, i, C), "actions", acts, "logits", logits,
                                "value", (double)ws_model_values(m)[i]);
        char *line = json_dumps(rec, JSON_COMPACT);
        puts(line);
        free(line);
        json_decref(rec);
    }
    free(idx);
    free(cfg_text);
    json_decref(cfg);
    ws_batch_builder_free(&bb);
    ws_dataset_free(&d);
    ws_model_free(m);
    return 0;
}
