/* The unit tests' one catalog (test_env, test_prefdata): a table with options and text, a pillow
 * cover whose option values exercise WebShop's marking quirks, and 14 "widget" products (two results pages and a bit), written to a temporary directory; the goal
 * that asks for the table. Header-only, included by the tests that use it. */
#ifndef WS_TEST_CATALOG_FIXTURE_H
#define WS_TEST_CATALOG_FIXTURE_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "env.h"

typedef struct fixture {
    char dir[64], path[128];
    ws_catalog cat;
    ws_env *env;
} fixture;

/* cmocka group setup and teardown: *state is the fixture. */
static inline int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/ws-catalog-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/products.jsonl", f->dir);
    FILE *out = fopen(f->path, "w");
    fprintf(out, "{\"id\":\"B000TABLE1\",\"contents\":\"oak console table with drawer\",\"product\":{"
                 "\"asin\":\"B000TABLE1\",\"Title\":\"Oak Console Table\",\"Description\":\"A solid oak table.\","
                 "\"BulletPoints\":[\"Material: oak wood\",\"Easy assembly\"],\"Price\":\"$120.5\","
                 "\"pricing\":[120.5],\"Rating\":\"N.A.\",\"Reviews\":[{\"title\":\"Great\",\"score\":5,"
                 "\"body\":\"Sturdy.\"}],\"Attributes\":[\"solid wood\",\"easy assembly\"],\"category\":\"garden\","
                 "\"query\":\"console tables\",\"product_category\":\"Home & Kitchen \xe2\x80\xba Furniture \xe2\x80\xba "
                 "Tables\",\"options\":{\"color\":[\"natural\",\"black\"],\"size\":[\"small\",\"large\"]}}}\n");
    /* options whose values WebShop's page marks oddly: a quote, a non-ASCII letter, a value listed
     * twice, a value equal to another option's name */
    fprintf(out, "{\"id\":\"B000PILLOW\",\"contents\":\"pillow cover\",\"product\":{\"asin\":\"B000PILLOW\","
                 "\"Title\":\"Pillow Cover\",\"Description\":\"\",\"BulletPoints\":[\"\"],\"Price\":\"$9.0\","
                 "\"pricing\":[9.0],\"Rating\":\"N.A.\",\"Reviews\":[],\"Attributes\":[],\"category\":\"garden\","
                 "\"query\":\"pillows\",\"product_category\":\"\",\"options\":{\"size\":[\"16\\\" x 16\\\"\","
                 "\"20 x 20\"],\"color\":[\"caf\xc3\xa9\",\"red\",\"red\"],\"style\":[\"size\"]}}}\n");
    for (int i = 0; i < 14; i++)
        fprintf(out, "{\"id\":\"B00WIDGET%c\",\"contents\":\"widget number %d%s\",\"product\":{\"asin\":"
                     "\"B00WIDGET%c\",\"Title\":\"Widget %d\",\"Description\":\"\",\"BulletPoints\":[],"
                     "\"Price\":\"$5.0\",\"pricing\":[5.0],\"Rating\":\"N.A.\",\"Reviews\":[],\"Attributes\":[],"
                     "\"category\":\"electronics\",\"query\":\"widgets\",\"product_category\":\"\",\"options\":{}}}\n",
                'A' + i, i, i == 13 ? " widget widget" : "", 'A' + i, i);
    fclose(out);
    ws_err err;
    if (ws_catalog_load_files(&f->cat, f->path, NULL, 1, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    f->env = ws_env_new(&f->cat, NULL, &err);
    if (!f->env) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    fixture *f = *state;
    ws_env_free(f->env);
    ws_catalog_free(&f->cat);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* The goal of the table: black, large, under $130. */
static inline json_t *table_goal(void)
{
    return json_pack("{s:s, s:i, s:i, s:s, s:s, s:[s,s], s:{s:s, s:s}, s:f, s:s, s:s, s:s}", "type", "goal", "v", 1,
                     "goal_id", 7, "asin", "B000TABLE1", "instruction", "i want an oak console table", "attributes",
                     "solid wood", "easy assembly", "goal_options", "color", "black", "size", "large",
                     "price_upper", 130.0, "query", "console tables", "product_category",
                     "Home & Kitchen \xe2\x80\xba Furniture \xe2\x80\xba Tables", "name", "Oak Console Table");
}

#endif
