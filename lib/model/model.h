/* model: WebShop's choice model (docs/webshop.md, section 4): a BERT encoder shared by the state and its
 * actions, the state-action bi-attention head that scores each action, and the value head.
 *
 * Owns the parameters (one buffer, Hugging Face / WebShop tensor names), their gradients, and
 * the activations of the last forward pass, which backward consumes (none kept by a model set
 * for inference, ws_model_set_inference). Activation buffers grow with the largest batch seen and
 * are kept, so steady training or play allocates nothing. Forward and backward are
 * written out layer by layer (llm.c style) on top of lib/model/backend.h. A batch is a list of
 * decisions; each decision is a state and its valid actions. Sequences are packed without
 * padding, so every state and action attends over exactly its own tokens; the state is encoded
 * once per decision and shared by its actions.
 *
 * Departures from WebShop's PyTorch model, on purpose: no dropout (deterministic training);
 * the bi-attention's softmax over action positions runs over the action's own tokens (WebShop's
 * padded batches also let padding positions in, which depends on the batch). */
#ifndef WS_MODEL_H
#define WS_MODEL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "err.h"

typedef struct ws_model_config {
    int vocab_size;   /* BERT's 30522 + WebShop's 4 added tokens */
    int hidden;       /* C */
    int layers;
    int heads;
    int intermediate; /* feed-forward width */
    int max_position;
    int type_vocab;
    double ln_eps;
    int value_hidden; /* 128 in WebShop */
    int segments;     /* ws_segments: which tokens get BERT's token type 1 */
    int item_titles;  /* a product click's action reads its listing (ws_item_title_span) */
} ws_model_config;

/* Token types (BERT's segment embedding; WebShop's model gives every token type 0). With
 * WS_SEGMENTS_INSTRUCTION a state's instruction is segment B: the tokens after the first
 * "instruction :" up to the first WebShop button token or [SEP] (every page shows the instruction
 * so, docs/webshop.md section 2) get type 1, so that a token the action attends to says whether
 * it is the goal's word or the page's (an option value is on the page for every option, in the
 * instruction only for the wanted one). WS_SEGMENTS_MATCH also gives type 1 to each action
 * token (other than [CLS]/[SEP]) that occurs in its state's instruction: an exact-match signal
 * on the action side. Types depend on a decision's own tokens only, never on the batch. */
typedef enum ws_segments { WS_SEGMENTS_NONE, WS_SEGMENTS_INSTRUCTION, WS_SEGMENTS_MATCH } ws_segments;
/* "none", "instruction", "match"; -1 for another name. */
int ws_segments_from_name(const char *name);
const char *ws_segments_name(int segments);
/* The ids the rules (this one and item titles, below) look for, in the project's vocabulary (BERT's uncased vocab.txt and WebShop's
 * four added tokens from 30522); tests/unit/test_wordpiece.c checks them against vocab.txt. */
#define WS_TOKEN_SEP 102
#define WS_TOKEN_COLON 1024
#define WS_TOKEN_INSTRUCTION 7899
#define WS_TOKEN_FIRST_ADDED 30522
#define WS_TOKEN_BUTTON_END (WS_TOKEN_FIRST_ADDED + 1)
#define WS_TOKEN_CLICK 11562
#define WS_TOKEN_OPEN_BRACKET 1031
#define WS_TOKEN_CLOSE_BRACKET 1033
#define WS_TOKEN_B 1038
#define WS_TOKEN_SUFFIX_0 2692
/* The rule, one sequence at a time: types[len] of a state; of an action given its state's ids
 * and types (WS_SEGMENTS_MATCH). */
void ws_state_token_types(const int32_t *ids, int len, int32_t *types);
void ws_action_token_types(const int32_t *ids, int len, const int32_t *state_ids, const int32_t *state_types,
                           int state_len, int32_t *types);

/* Item titles. On a results page a product's action is click[<its ASIN>]: ten characters that
 * say nothing of the product, so the model must find the ASIN on the page and read the listing
 * after it (WebShop's own baseline shows its model `click[item - <title>]` instead, the
 * click_item_name wrapper). With item_titles, a click on a value that begins with "b0" (an
 * Amazon product ASIN as every WebShop product has) and that the state shows as a button
 * ([button] value [button_]: text_rich observations, which the pipelines use; text observations
 * mark no buttons, so there the rule never applies) has the listing after that button appended to its tokens before its
 * [SEP]: the page's tokens up to the next button token or [SEP] (the title and the price), at
 * most WS_ITEM_TITLE_MAX of them. A listing cut off by the state's truncation gives what is
 * left. Returns the listing's length (0: no listing) and its first state position in *from. A
 * property of the decision's own tokens, so rollouts, tokens records and old data need no change;
 * the environment's action is still the ASIN. */
#define WS_ITEM_TITLE_MAX 64
int ws_item_title_span(const int32_t *action, int action_len, const int32_t *state, int state_len, int *from);

/* Read a configuration from JSON: the project's own keys, or a Hugging Face config.json
 * (hidden_size, num_hidden_layers, ...). Missing head keys take WebShop's values. */
int ws_model_config_from_json(const json_t *j, ws_model_config *cfg, ws_err *err);
json_t *ws_model_config_to_json(const ws_model_config *cfg);
int ws_model_config_check(const ws_model_config *cfg, ws_err *err);

/* One named parameter tensor: a view into the model's buffer. */
typedef struct ws_tensor {
    char name[96];
    int ndim;
    int64_t shape[2];
    size_t offset, numel;
    int decay; /* weight decay applies (matrices, not biases, norms or the head's scale) */
} ws_tensor;

/* A batch of decisions. Token ids include [CLS] ... [SEP]. Actions are listed decision after
 * decision: decision i owns actions first_action[i] .. first_action[i] + n_actions[i] - 1. */
typedef struct ws_batch {
    int n_decisions;
    const int32_t *const *state_ids;
    const int *state_len;
    const int *n_actions;
    const int32_t *const *action_ids; /* all actions of all decisions */
    const int *action_len;
} ws_batch;

typedef struct ws_model ws_model;

/* A model on the CPU backend. */
ws_model *ws_model_new(const ws_model_config *cfg, ws_err *err);
void ws_model_free(ws_model *m);
const ws_model_config *ws_model_get_config(const ws_model *m);
/* BERT's initialisation (normal 0.02, LayerNorm 1/0) for the encoder; PyTorch's defaults for the
 * head, as WebShop's model has them. */
void ws_model_init_random(ws_model *m, uint64_t seed);

size_t ws_model_n_tensors(const ws_model *m);
/* Whether a tensor belongs to the head (the bi-attention scorer and the value head: what WebShop
 * adds on top of BERT), not to the encoder (names under "embeddings." and "encoder."). */
int ws_tensor_is_head(const ws_tensor *t);
const ws_tensor *ws_model_tensor(const ws_model *m, size_t i);
const ws_tensor *ws_model_find_tensor(const ws_model *m, const char *name);
size_t ws_model_n_params(const ws_model *m);

/* Move the model onto another backend (a GPU): its parameters are copied there and the host
 * keeps a copy for loading and saving. Done once, after the weights are loaded. */
int ws_model_to_backend(ws_model *m, const ws_backend *be, ws_err *err);
const ws_backend *ws_model_backend(const ws_model *m);
/* The model closes its backend when it is freed (a backend opened for it alone). */
void ws_model_own_backend(ws_model *m);
/* All parameters on the host, tensor after tensor: what checkpoints load into and save from.
 * Off the host backend this is a copy: after writing it, ws_model_params_to_device; before
 * reading it (the backend trains the device copy), ws_model_params_to_host. */
ws_real *ws_model_params(ws_model *m);
int ws_model_params_to_device(ws_model *m, ws_err *err);
int ws_model_params_to_host(ws_model *m, ws_err *err);
/* The parameters and their gradients in the backend's memory (the same as the host's on the CPU). */
ws_real *ws_model_device_params(ws_model *m);
ws_real *ws_model_device_grads(ws_model *m);
/* The rows of the word embeddings' gradient (embeddings.word_embeddings.weight) outside which it
 * is zero: those the backward passes wrote since ws_model_zero_grad, sorted, *n of them; NULL
 * where any row may be nonzero (a GPU backend; before the first zeroing; after
 * ws_model_device_grads handed out the gradients' memory, until the next zeroing). */
const int32_t *ws_model_grad_rows(const ws_model *m, size_t *n);

/* Inference mode, for a model that only plays or scores (forward passes; the agent's, a reference
 * model's): set it where such a model is loaded, before its first forward. The model then keeps
 * no activation for backward and has no backward buffer: every encoder layer reuses one set of
 * buffers, its input and output alternating between two, so a forward needs about 1/layers of the
 * training activations' memory. Its logits, log-probabilities and values are the training
 * forward's, bit for bit, for the same batch and threads; ws_model_backward refuses it. Switching
 * (either way) frees the activations; the next forward sizes them for the mode. */
void ws_model_set_inference(ws_model *m, int inference);
/* For players whose weights no longer change: keep the encoder's output of each action sequence
 * (its tokens and token types), up to `bytes` of rows, and encode an action seen before, in this
 * batch or an earlier one, no more: the same bits as encoding it, less work (enccache.h). Only
 * a model in inference mode on a backend whose rows do not depend on the batch uses them (the
 * CPU's bf16 products, its fp32 ones on CPUs without AVX-512: ws_backend_rows_independent;
 * elsewhere this changes nothing); leaving
 * inference mode turns this off, and
 * a new backend, random weights or taking the parameters for writing (ws_model_params,
 * ws_model_device_params) forget what is kept. bytes 0: off (the default). */
int ws_model_cache_encodings(ws_model *m, size_t bytes, ws_err *err);
/* Action tokens found kept (or repeated in their batch) and action tokens encoded, since the
 * cache was set. */
void ws_model_cache_stats(const ws_model *m, size_t *found_tokens, size_t *encoded_tokens);

/* Called by each forward before it reads its batch's rows of the word embeddings, with the
 * batch's token ids (host memory, n of them, repeats included): a trainer that applies some
 * updates to rows late (ws_trainer: the embedding rows whose gradient was zero) brings those
 * rows up to date here. hook NULL: none (the default). */
typedef void (*ws_model_read_hook)(void *arg, const int32_t *ids, size_t n);
void ws_model_set_read_hook(ws_model *m, ws_model_read_hook hook, void *arg);

/* Forward over a batch. Afterwards (on the host, whatever the backend): logits and
 * log-probabilities (log-softmax over each decision's actions), one per action in batch order;
 * values, one per decision. */
int ws_model_forward(ws_model *m, const ws_batch *b, ws_err *err);
const ws_real *ws_model_logits(const ws_model *m);
const ws_real *ws_model_logp(const ws_model *m);
const ws_real *ws_model_values(const ws_model *m);
/* Accumulate parameter gradients of a loss whose derivatives with respect to the logits
 * (one per action) and the values (one per decision; NULL when the loss ignores them) are given
 * (host arrays). */
int ws_model_backward(ws_model *m, const ws_real *dlogits, const ws_real *dvalues, ws_err *err);
void ws_model_zero_grad(ws_model *m);

/* The encoder's output of the last batch (backend memory: host backend only): sequence s (states 0..n_decisions-1, then every action
 * in batch order) occupies rows seq_start .. seq_start + seq_len - 1 of a [tokens, hidden] matrix. */
const ws_real *ws_model_encoder_output(const ws_model *m);
int ws_model_seq_start(const ws_model *m, int s);
int ws_model_seq_len(const ws_model *m, int s);

/* Floating-point operations of one forward pass over the last batch (matrix products and
 * attention, counted as 2 per multiply-add); backward is about twice that. */
double ws_model_forward_flops(const ws_model *m);
/* Tokens in the last batch (states and actions). */
size_t ws_model_batch_tokens(const ws_model *m);

#endif
