/* human: import of WebShop's human demonstrations (il_trajs_finalized_images.jsonl) as
 * trajectory records (ws_human_trajectory), matched to goals by their instruction. */
#ifndef WS_HUMAN_H
#define WS_HUMAN_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"

/* The instruction shown in a WebShop observation (the search page's "WebShop [SEP] Instruction:
 * [SEP] <instruction> [SEP] Search", or text_rich's "WebShop\nInstruction:\n<instruction>\n[button]
 * Search [button_]"): the text after "Instruction:" up to the next line break, [SEP] or [button].
 * The whole text, trimmed, when it has no "Instruction:". Malloc'd. */
char *ws_obs_instruction(const char *obs);

/* An instruction reduced for matching (as WebShop matches human trajectories to goals): lower
 * case, quotes (' and ") dropped, white space runs as one space, trimmed; with drop_price, from
 * ", and price lower than" on cut off. Malloc'd. */
char *ws_instruction_norm(const char *text, int drop_price);

/* Goal ids by instruction, for human demonstrations. */
typedef struct ws_goal_index {
    char **keys;
    long *ids;
    size_t n, cap;
    int sorted;
} ws_goal_index;

/* Index a goal record under its instruction (normalised with and without its price clause). */
int ws_goal_index_add(ws_goal_index *ix, const json_t *goal, ws_err *err);
/* The goal id of an instruction: the lowest id whose instruction normalises alike, else whose
 * instruction without the price clause does; -1 when none. */
long ws_goal_index_find(ws_goal_index *ix, const char *instruction);
void ws_goal_index_free(ws_goal_index *ix);

/* One line of WebShop's human demonstrations file as a trajectory record (policy "human").
 * The line: "states" (observation texts), "actions" (action strings), "available_actions" (per
 * state, the valid actions, as action strings or bare click texts), "action_idxs" (the action's
 * index among them, -1 on the search page), "images" (ignored), optionally "reward" and
 * "instruction". Step i: obs = states[i], action = actions[i]; a search step (action "search[q]")
 * gets actions ["search[q]"] and index 0 (the typed query is the search page's one action);
 * otherwise actions = available_actions[i] (bare texts written as click[text]), the index from
 * action_idxs[i] when it names the action, else found by text (case-insensitively), else -1.
 * The instruction comes from "instruction" or the first state. Without a "reward" the record
 * says reward 0, success false and "reward_known": false. goal_id as given (>= 0). NULL with
 * err (naming the field) when the line is not in this format. */
json_t *ws_human_trajectory(const json_t *line, long goal_id, ws_err *err);

#endif
