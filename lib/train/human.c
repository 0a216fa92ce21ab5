#include "human.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "trajectory.h"

char *ws_obs_instruction(const char *obs)
{
    const char *s = strstr(obs, "Instruction:"), *end;
    if (s) {
        s += strlen("Instruction:");
        for (;;) { /* white space and [SEP] separators before the text */
            while (*s && isspace((unsigned char)*s))
                s++;
            if (strncmp(s, "[SEP]", 5) == 0)
                s += 5;
            else
                break;
        }
        end = s;
        while (*end && *end != '\n' && strncmp(end, "[SEP]", 5) != 0 && strncmp(end, "[button]", 8) != 0)
            end++;
    } else {
        s = obs;
        end = obs + strlen(obs);
    }
    while (*s && isspace((unsigned char)*s))
        s++;
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    return strndup(s, (size_t)(end - s));
}

char *ws_instruction_norm(const char *text, int drop_price)
{
    size_t n = strlen(text);
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    int space = 0;
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\'')
            continue;
        if (isspace(c)) {
            space = 1;
            continue;
        }
        if (space && o > out)
            *o++ = ' ';
        space = 0;
        *o++ = (char)tolower(c);
    }
    *o = 0;
    if (drop_price) {
        char *cut = strstr(out, ", and price lower than");
        if (cut)
            *cut = 0;
    }
    return out;
}

static int ix_put(ws_goal_index *ix, char *key, long id)
{
    if (!key)
        return -1;
    if (ix->n == ix->cap) {
        size_t cap = ws_grow_cap(ix->cap, ix->n + 1, 64);
        char **k = ws_realloc_array(ix->keys, cap, sizeof *k);
        if (k)
            ix->keys = k;
        long *d = k ? ws_realloc_array(ix->ids, cap, sizeof *d) : NULL;
        if (d)
            ix->ids = d;
        if (!k || !d) {
            free(key);
            return -1;
        }
        ix->cap = cap;
    }
    ix->keys[ix->n] = key;
    ix->ids[ix->n++] = id;
    ix->sorted = 0;
    return 0;
}

int ws_goal_index_add(ws_goal_index *ix, const json_t *goal, ws_err *err)
{
    const char *ins = json_string_value(json_object_get(goal, "instruction"));
    json_t *id = json_object_get(goal, "goal_id");
    if (!ins || !json_is_integer(id))
        return ws_fail(err, "a goal record without instruction or goal_id");
    /* the full instruction, and with "\x01" in front the one without its price clause */
    char *full = ws_instruction_norm(ins, 0), *base = ws_instruction_norm(ins, 1), *tagged = NULL;
    if (base && asprintf(&tagged, "\x01%s", base) < 0)
        tagged = NULL;
    free(base);
    if (ix_put(ix, full, (long)json_integer_value(id)) || ix_put(ix, tagged, (long)json_integer_value(id)))
        return ws_fail(err, "out of memory");
    return 0;
}

typedef struct ix_pair {
    char *key;
    long id;
} ix_pair;

static int ix_cmp(const void *a, const void *b)
{
    const ix_pair *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

static void ix_sort(ws_goal_index *ix)
{
    if (ix->sorted)
        return;
    ix_pair *p = malloc((ix->n + 1) * sizeof *p);
    if (!p)
        return; /* stays unsorted: lookups fall back to a scan */
    for (size_t i = 0; i < ix->n; i++)
        p[i] = (ix_pair){ix->keys[i], ix->ids[i]};
    qsort(p, ix->n, sizeof *p, ix_cmp);
    for (size_t i = 0; i < ix->n; i++) {
        ix->keys[i] = p[i].key;
        ix->ids[i] = p[i].id;
    }
    free(p);
    ix->sorted = 1;
}

static long ix_lookup(ws_goal_index *ix, const char *key)
{
    ix_sort(ix);
    if (!ix->sorted) {
        long best = -1;
        for (size_t i = 0; i < ix->n; i++)
            if (strcmp(ix->keys[i], key) == 0 && (best < 0 || ix->ids[i] < best))
                best = ix->ids[i];
        return best;
    }
    size_t lo = 0, hi = ix->n; /* the first key >= key: the lowest id among equal keys */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix->keys[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ix->n && strcmp(ix->keys[lo], key) == 0 ? ix->ids[lo] : -1;
}

long ws_goal_index_find(ws_goal_index *ix, const char *instruction)
{
    char *full = ws_instruction_norm(instruction, 0), *base = ws_instruction_norm(instruction, 1), *tagged = NULL;
    long id = -1;
    if (full)
        id = ix_lookup(ix, full);
    if (id < 0 && base && asprintf(&tagged, "\x01%s", base) >= 0)
        id = ix_lookup(ix, tagged);
    free(full);
    free(base);
    free(tagged);
    return id;
}

void ws_goal_index_free(ws_goal_index *ix)
{
    for (size_t i = 0; i < ix->n; i++)
        free(ix->keys[i]);
    free(ix->keys);
    free(ix->ids);
    memset(ix, 0, sizeof *ix);
}

static int same_text_ci(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

/* An available action as an action string: "click[x]" for a bare clickable text x. */
static json_t *as_action(const char *a)
{
    if (ws_action_parse(a, NULL, NULL) != WS_ACTION_INVALID)
        return json_string(a);
    char *s = ws_action_click(a);
    if (!s)
        return NULL;
    json_t *j = json_string(s);
    free(s);
    return j;
}

json_t *ws_human_trajectory(const json_t *line, long goal_id, ws_err *err)
{
    json_t *states = json_object_get(line, "states"), *actions = json_object_get(line, "actions");
    json_t *avail = json_object_get(line, "available_actions"), *idxs = json_object_get(line, "action_idxs");
    json_t *reward = json_object_get(line, "reward");
    const char *instruction = json_string_value(json_object_get(line, "instruction"));
    if (!json_is_object(line))
        return ws_fail(err, "not a JSON object"), NULL;
    if (!json_is_array(states) || json_array_size(states) == 0)
        return ws_fail(err, "no \"states\" list"), NULL;
    if (!json_is_array(actions))
        return ws_fail(err, "no \"actions\" list"), NULL;
    if (avail && !json_is_array(avail))
        return ws_fail(err, "\"available_actions\" is not a list"), NULL;
    if (idxs && !json_is_array(idxs))
        return ws_fail(err, "\"action_idxs\" is not a list"), NULL;
    if (reward && !json_is_number(reward))
        return ws_fail(err, "\"reward\" is not a number"), NULL;
    size_t n = json_array_size(actions);
    if (json_array_size(states) < n)
        return ws_fail(err, "%zu actions but %zu states", n, json_array_size(states)), NULL;
    if (goal_id < 0)
        return ws_fail(err, "goal_id %ld < 0", goal_id), NULL;
    json_t *steps = json_array();
    char *ins = NULL;
    for (size_t i = 0; steps && i < n; i++) {
        const char *obs = json_string_value(json_array_get(states, i));
        const char *action = json_string_value(json_array_get(actions, i));
        if (!obs || !action) {
            ws_fail(err, "%s[%zu] is not a string", obs ? "actions" : "states", i);
            goto fail;
        }
        json_t *acts = json_array();
        int index = -1;
        if (!acts)
            goto oom;
        if (ws_action_parse(action, NULL, NULL) == WS_ACTION_SEARCH) {
            /* the search page: the query typed is its action */
            if (json_array_append_new(acts, json_string(action))) {
                json_decref(acts);
                goto oom;
            }
            index = 0;
        } else {
            json_t *av = json_array_get(avail, i);
            if (av && !json_is_array(av)) {
                json_decref(acts);
                ws_fail(err, "available_actions[%zu] is not a list", i);
                goto fail;
            }
            for (size_t k = 0; k < json_array_size(av); k++) {
                const char *a = json_string_value(json_array_get(av, k));
                json_t *s = a ? as_action(a) : NULL;
                if (!a) {
                    json_decref(acts);
                    ws_fail(err, "available_actions[%zu][%zu] is not a string", i, k);
                    goto fail;
                }
                if (!s || json_array_append_new(acts, s)) {
                    json_decref(acts);
                    goto oom;
                }
            }
            json_t *ji = json_array_get(idxs, i);
            long given = json_is_integer(ji) ? (long)json_integer_value(ji) : -1;
            if (given >= 0 && (size_t)given < json_array_size(acts) &&
                same_text_ci(json_string_value(json_array_get(acts, (size_t)given)), action))
                index = (int)given;
            for (size_t k = 0; index < 0 && k < json_array_size(acts); k++)
                if (same_text_ci(json_string_value(json_array_get(acts, k)), action))
                    index = (int)k;
        }
        json_t *step = json_pack("{s:s, s:o, s:s, s:i}", "obs", obs, "actions", acts, "action", action,
                                 "action_index", index);
        if (!step || json_array_append_new(steps, step))
            goto oom;
    }
    if (!steps)
        goto oom;
    if (!instruction) {
        if (!(ins = ws_obs_instruction(json_string_value(json_array_get(states, 0)) ? json_string_value(json_array_get(states, 0)) : "")))
            goto oom;
        instruction = ins;
    }
    double r = reward ? json_number_value(reward) : 0.0;
    if (r < 0 || r > 1) {
        ws_fail(err, "reward %g outside [0, 1]", r);
        goto fail;
    }
    json_t *traj = json_pack("{s:s, s:i, s:I, s:s, s:s, s:i, s:o, s:f, s:b, s:I, s:b}", "type", "trajectory", "v",
                             WS_TRAJECTORY_VERSION, "goal_id", (json_int_t)goal_id, "instruction", instruction,
                             "policy", "human", "seed", 0, "steps", steps, "reward", r, "success", r == 1.0,
                             "n_steps", (json_int_t)n, "reward_known", reward != NULL);
    steps = NULL;
    free(ins);
    if (!traj)
        ws_fail(err, "out of memory");
    return traj;
oom:
    ws_fail(err, "out of memory");
fail:
    json_decref(steps);
    free(ins);
    return NULL;
}

