/* Unit tests of lib/webshop/rawcatalog: WebShop's loader and search-document rules on raw products.
 * Expected texts were produced by WebShop's own Python code (load_products and
 * convert_product_file_format.py) on the same inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rawcatalog.h"
#include "stream.h"

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!v)
        fail_msg("bad test JSON: %s: %s", jerr.text, text);
    return v;
}

/* The compact serialisation the project's writer uses (key order kept). */
static char *dump(const json_t *v)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    assert_int_equal(ws_json_append(v, &buf, &len, &cap), 0);
    buf = realloc(buf, len + 1);
    buf[len] = 0;
    return buf;
}

static void test_float_repr(void **state)
{
    (void)state;
    static const struct { double d; const char *want; } cases[] = {
        {877.8, "877.8"}, {100.0, "100.0"}, {12.99, "12.99"}, {0.1, "0.1"}, {1e16, "1e+16"},
        {1234567890123456.0, "1234567890123456.0"}, {9999999999999998.0, "9999999999999998.0"},
        {0.0001, "0.0001"}, {0.00001, "1e-05"}, {1.5e-7, "1.5e-07"}, {0.0, "0.0"}, {-0.0, "-0.0"},
        {1e22, "1e+22"}, {123456789.123, "123456789.123"}, {0.1 + 0.2, "0.30000000000000004"},
        {2.5, "2.5"}, {1e100, "1e+100"}, {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
        {1299.0, "1299.0"}, {0.001234, "0.001234"}, {-12.5, "-12.5"}, {15.99, "15.99"}, {19.989999999999998, "19.99"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char out[32];
        size_t n = ws_py_float_repr(cases[i].d, out);
        assert_string_equal(out, cases[i].want);
        assert_int_equal(n, strlen(cases[i].want));
    }
    char out[32];
    ws_py_float_repr(INFINITY, out);
    assert_string_equal(out, "inf");
    ws_py_float_repr(NAN, out);
    assert_string_equal(out, "nan");
}

static void expect_prices(const char *text, size_t want_count, double a, double b)
{
    double v[2] = {-1, -1};
    size_t count = 99;
    ws_err err = {{0}};
    if (ws_py_pricing(text, strlen(text), v, 2, &count, &err))
        fail_msg("%s: %s", text, err.msg);
    assert_int_equal(count, want_count);
    if (want_count > 0)
        assert_true(v[0] == a);
    if (want_count > 1)
        assert_true(v[1] == b);
}

static void test_pricing_texts(void **state)
{
    (void)state;
    expect_prices("$12.99", 1, 12.99, 0);
    expect_prices("$12.99 - $15.99", 2, 12.99, 15.99);
    expect_prices("$1,299.00", 1, 1299.0, 0);
    expect_prices("$12.99 - $15.99 - $20", 3, 12.99, 15.99);
    expect_prices("From $5", 1, 5.0, 0);
    expect_prices("$.5", 1, 0.5, 0);
    expect_prices("$7.", 1, 7.0, 0);
    expect_prices("$007.50 USD", 1, 7.5, 0);
    expect_prices("$\xd9\xa1\xd9\xa2.\xd9\xa5", 1, 12.5, 0); /* Arabic-Indic digits: \d matches them */
    expect_prices("12.99", 0, 0, 0);                        /* no '$': no price at all */
    expect_prices("", 0, 0, 0);
    const char *bad[] = {"$", "$abc", "$1.2.3", "$12.99 - $", "$12$", "$.", "$1e5x$"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double v[2];
        size_t count;
        ws_err err = {{0}};
        if (ws_py_pricing(bad[i], strlen(bad[i]), v, 2, &count, &err) == 0)
            fail_msg("'%s' should not parse", bad[i]);
        assert_non_null(strstr(err.msg, "is not a number"));
    }
    char huge[420] = "$1";
    memset(huge + 2, '0', 400);
    huge[402] = 0;
    double v[2];
    size_t count;
    ws_err err;
    assert_int_equal(ws_py_pricing(huge, strlen(huge), v, 2, &count, &err), -1);
    assert_non_null(strstr(err.msg, "overflows"));
}

static void expect_lower(const char *in, const char *want)
{
    size_t n;
    char *got = ws_py_lower(in, strlen(in), &n);
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(n, strlen(want));
    free(got);
}

static void test_lower_and_strip(void **state)
{
    (void)state;
    expect_lower("Console TABLES 12", "console tables 12");
    expect_lower("\xc4\xb0stanbul", "i\xcc\x87stanbul");               /* İ -> i + combining dot */
    expect_lower("\xce\x9f\xce\x94\xce\x9f\xce\xa3", "\xce\xbf\xce\xb4\xce\xbf\xcf\x82"); /* final sigma */
    expect_lower("\xce\xa3\xce\x91", "\xcf\x83\xce\xb1");               /* ΣΑ: not final */
    expect_lower("A\xce\xa3.B", "a\xcf\x83.b");                         /* '.' is case-ignorable */
    expect_lower("\xce\x91\xce\xa3 B", "\xce\xb1\xcf\x82 b");
    expect_lower("\xce\x91'\xce\xa3", "\xce\xb1'\xcf\x82");               /* Python: U+0027 is case-ignorable */
    expect_lower("\xce\x91\xce\xa3'\xce\x92", "\xce\xb1\xcf\x83'\xce\xb2");
    expect_lower("\xce\xa3\xce\xa3", "\xcf\x83\xcf\x82");
    expect_lower("1\xce\xa3 \xc3\xa9", "1\xcf\x83 \xc3\xa9");                 /* no cased letter before */
    expect_lower("Stra\xc3\x9f" "e", "stra\xc3\x9f" "e");
    expect_lower("", "");

    static const struct { const char *in, *want; } strips[] = {
        {"  x y \t\n", "x y"}, {"\xc2\xa0 x \xe3\x80\x80", "x"}, {"\x1c x\xc2\x85", "x"},
        {"\xe2\x80\x8b x", "\xe2\x80\x8b x"}, /* zero-width space is not whitespace to Python */
        {"\xe2\x80\xa8\xe2\x80\x83", ""}, {"", ""}, {"\xc3\xa9", "\xc3\xa9"}, {"a\xe2\x80\xaf" "b\xe2\x80\xaf", "a\xe2\x80\xaf" "b"},
    };
    for (size_t i = 0; i < sizeof strips / sizeof *strips; i++) {
        const char *s = strips[i].in;
        size_t n = strlen(s);
        ws_py_strip(&s, &n);
        if (n != strlen(strips[i].want) || memcmp(s, strips[i].want, n) != 0)
            fail_msg("strip case %zu: got '%.*s'", i, (int)n, s);
    }
}

/* A raw product touching every rule at once. */
static const char *RAW_FULL =
    "{\"name\": \"Caf\xc3\xa9 \xce\x9f\xce\x94\xce\x9f\xce\xa3 Table\", \"full_description\": \"Solid \xc4\xb0 Wood.\","
    " \"pricing\": \"$1,299.00 - $15.99 - $3\", \"brand\": \"X\", \"images\": [\"img1\", \"img2\"],"
    " \"product_category\": \"Home \xe2\x80\xba Tables\", \"average_rating\": \"\", \"small_description\": \"One Bullet\","
    " \"customization_options\": {\"Color\": [{\"value\": \" Black/White \", \"image\": \"c1\"}, {\"value\": \"Red\"}],"
    " \"Size\": null, \"SIZE2\": [], \"color\": [{\"value\": \"\\u00a0Blue\\u3000\", \"image\": null}]},"
    " \"asin\": \"B0TEST0001\", \"category\": \"garden\", \"query\": \"  Console TABLES \\t\", \"page\": 3,"
    " \"list_price\": \"$1\"}";
static const char *NORM_FULL =
    "{\"name\":\"Caf\xc3\xa9 \xce\x9f\xce\x94\xce\x9f\xce\xa3 Table\",\"full_description\":\"Solid \xc4\xb0 Wood.\","
    "\"pricing\":[1299.0,15.99],\"images\":[\"img1\",\"img2\"],\"product_category\":\"Home \xe2\x80\xba Tables\","
    "\"average_rating\":\"\",\"small_description\":\"One Bullet\",\"customization_options\":{\"Color\":[{\"value\":"
    "\" Black/White \",\"image\":\"c1\"},{\"value\":\"Red\"}],\"Size\":null,\"SIZE2\":[],\"color\":[{\"value\":"
    "\"\xc2\xa0" "Blue\xe3\x80\x80\",\"image\":null}]},\"asin\":\"B0TEST0001\",\"category\":\"garden\",\"query\":"
    "\"console tables\",\"page\":3,\"Title\":\"Caf\xc3\xa9 \xce\x9f\xce\x94\xce\x9f\xce\xa3 Table\",\"Description\":"
    "\"Solid \xc4\xb0 Wood.\",\"Reviews\":[],\"Rating\":\"N.A.\",\"BulletPoints\":[\"One Bullet\"],\"Price\":"
    "\"$1299.0 to $15.99\",\"options\":{\"color\":[\"blue\"],\"size2\":[]},\"option_to_image\":{\"black | white\":"
    "\"c1\",\"red\":null,\"blue\":null},\"Attributes\":[\"DUMMY_ATTR\"],\"MainImage\":\"img1\"}";
static const char *CONTENTS_FULL =
    "caf\xc3\xa9 \xce\xbf\xce\xb4\xce\xbf\xcf\x82 table solid i\xcc\x87 wood. one bullet color: blue, and size2: ";

/* json.dumps of a string (lib/text/pystr), as python3 printed it for the same text */
static void test_json_string(void **state)
{
    (void)state;
    ws_strbuf b = {0};
    ws_py_json_string(&b, "a\"b\\c\xc3\xa9\xf0\x9f\x98\x80\x7f\n\t/");
    char *got = ws_strbuf_finish(&b);
    assert_string_equal(got, "\"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\\u007f\\n\\t/\"");
    free(got);
}

static void test_normalize_full(void **state)
{
    (void)state;
    json_t *p = parse(RAW_FULL);
    ws_err err = {{0}};
    if (ws_rawcat_normalize(p, NULL, NULL, &err))
        fail_msg("%s", err.msg);
    char *got = dump(p);
    assert_string_equal(got, NORM_FULL);
    free(got);
    size_t n;
    char *contents = ws_rawcat_contents(p, &n, &err);
    assert_non_null(contents);
    assert_string_equal(contents, CONTENTS_FULL);
    free(contents);
    json_t *doc = ws_rawcat_document(p, &err);
    assert_non_null(doc);
    got = dump(doc);
    assert_true(strncmp(got, "{\"id\":\"B0TEST0001\",\"contents\":\"caf", 34) == 0);
    assert_non_null(strstr(got, "\",\"product\":{\"name\":"));
    free(got);
    json_decref(doc);
    json_decref(p);
}

/* No pricing key (it lands after BulletPoints), a string for images, a list small_description,
 * attributes and human goals given, an existing Title replaced in place. */
static void test_normalize_defaults_and_side_data(void **state)
{
    (void)state;
    json_t *p = parse("{\"name\": \"N\", \"full_description\": \"\", \"images\": \"xyz\", \"product_category\": \"\","
                      " \"small_description\": [\"A\", \"b\"], \"customization_options\": \"\", \"asin\": \"B2\","
                      " \"category\": \"beauty\", \"query\": \"q\", \"Title\": \"old\"}");
    json_t *attrs = parse("[\"a\",\"b\"]"), *human = parse("[{\"instruction\":\"i\"}]");
    ws_err err = {{0}};
    if (ws_rawcat_normalize(p, attrs, human, &err))
        fail_msg("%s", err.msg);
    char *got = dump(p);
    assert_string_equal(got,
        "{\"name\":\"N\",\"full_description\":\"\",\"images\":\"xyz\",\"product_category\":\"\",\"small_description\":"
        "[\"A\",\"b\"],\"customization_options\":\"\",\"asin\":\"B2\",\"category\":\"beauty\",\"query\":\"q\","
        "\"Title\":\"N\",\"Description\":\"\",\"Reviews\":[],\"Rating\":\"N.A.\",\"BulletPoints\":[\"A\",\"b\"],"
        "\"pricing\":[100.0],\"Price\":\"$100.0\",\"options\":{},\"option_to_image\":{},\"Attributes\":[\"a\",\"b\"],"
        "\"instructions\":[{\"instruction\":\"i\"}],\"MainImage\":\"x\"}");
    free(got);
    size_t n;
    char *contents = ws_rawcat_contents(p, &n, &err);
    assert_string_equal(contents, "n  a ");
    free(contents);
    json_decref(p);
    json_decref(attrs);
    json_decref(human);
}

static const char *price_of(const char *pricing_json, char *pricing_out, size_t cap)
{
    static char price[96];
    char raw[512];
    snprintf(raw, sizeof raw, "{\"name\":\"n\",\"full_description\":\"d\",\"pricing\":%s,\"images\":[\"i\"],"
             "\"product_category\":\"c\",\"small_description\":\"s\",\"customization_options\":null,\"asin\":\"A\","
             "\"category\":\"c\",\"query\":\"q\"}", pricing_json);
    json_t *p = parse(raw);
    ws_err err = {{0}};
    if (ws_rawcat_normalize(p, NULL, NULL, &err))
        fail_msg("%s: %s", pricing_json, err.msg);
    snprintf(price, sizeof price, "%s", json_string_value(json_object_get(p, "Price")));
    char *d = dump(json_object_get(p, "pricing"));
    snprintf(pricing_out, cap, "%s", d);
    free(d);
    json_decref(p);
    return price;
}

static void test_price_texts(void **state)
{
    (void)state;
    static const struct { const char *in, *price, *pricing; } cases[] = {
        {"\"$12.99\"", "$12.99", "[12.99]"},
        {"\"$12.99 - $15.99\"", "$12.99 to $15.99", "[12.99,15.99]"},
        {"\"$1,299.00\"", "$1299.0", "[1299.0]"},
        {"\"$877.80\"", "$877.8", "[877.8]"},
        {"\"$10 - $20 - $30\"", "$10.0 to $20.0", "[10.0,20.0]"},
        {"\"\"", "$100.0", "[100.0]"},
        {"null", "$100.0", "[100.0]"},
        {"[]", "$100.0", "[100.0]"},
        {"0", "$100.0", "[100.0]"},
        {"\"$0.00001\"", "$1e-05", "[1e-05]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char pricing[128];
        const char *price = price_of(cases[i].in, pricing, sizeof pricing);
        if (strcmp(price, cases[i].price) != 0 || strcmp(pricing, cases[i].pricing) != 0)
            fail_msg("%s: got %s %s, want %s %s", cases[i].in, price, pricing, cases[i].price, cases[i].pricing);
    }
}

/* Products WebShop's loader raises on: the reason names the field. */
static void test_malformed(void **state)
{
    (void)state;
    static const struct { const char *patch, *needle; } cases[] = {
        {"\"name\": null, \"REMOVE\": \"name\"", "no \"name\" field"},
        {"\"images\": []", "\"images\" is empty"},
        {"\"images\": {}", "\"images\" is an object"},
        {"\"pricing\": \"12.99\"", "has no '$'"},
        {"\"pricing\": \"$\"", "is not a number"},
        {"\"pricing\": 5", "\"pricing\" is an integer"},
        {"\"customization_options\": \"abc\"", "\"customization_options\" is a string"},
        {"\"customization_options\": {\"Size\": [{\"value\": 3}]}", "option \"Size\" item 0: \"value\" is not a string"},
        {"\"customization_options\": {\"Size\": [{\"image\": \"x\"}]}", "no \"value\""},
        {"\"customization_options\": {\"Size\": [\"S\"]}", "not an object"},
        {"\"customization_options\": {\"Size\": 3}", "option \"Size\" is an integer"},
        {"\"query\": 7", "\"query\" is an integer"},
        {"\"small_description\": []", "BulletPoints is empty"},
        {"\"small_description\": null", "BulletPoints[0] is null"},
        {"\"name\": 5", "Title is an integer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *p = parse("{\"name\":\"n\",\"full_description\":\"d\",\"pricing\":\"$1\",\"images\":[\"i\"],"
                          "\"product_category\":\"c\",\"small_description\":\"s\",\"customization_options\":{},"
                          "\"asin\":\"A\",\"category\":\"c\",\"query\":\"q\"}");
        char patch[256];
        snprintf(patch, sizeof patch, "{%s}", cases[i].patch);
        json_t *changes = parse(patch);
        json_object_update(p, changes);
        json_t *rm = json_object_get(changes, "REMOVE");
        if (rm) {
            json_object_del(p, json_string_value(rm));
            json_object_del(p, "REMOVE");
        }
        json_decref(changes);
        ws_err err = {{0}};
        json_t *doc = NULL;
        if (ws_rawcat_normalize(p, NULL, NULL, &err) == 0)
            doc = ws_rawcat_document(p, &err);
        if (doc)
            fail_msg("case %zu (%s) should fail", i, cases[i].patch);
        if (!strstr(err.msg, cases[i].needle))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].needle);
        json_decref(p);
    }
    json_t *p = parse("[1]");
    ws_err err;
    assert_int_equal(ws_rawcat_normalize(p, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "not an object"));
    json_decref(p);
}

static json_t *product(const char *asin, const char *name)
{
    json_t *p = parse("{\"name\":\"n\",\"full_description\":\"d\",\"pricing\":\"$1\",\"images\":[\"i\"],"
                      "\"product_category\":\"c\",\"small_description\":\"s\",\"customization_options\":{},"
                      "\"category\":\"c\",\"query\":\"q\"}");
    json_object_set_new(p, "asin", json_string(asin));
    json_object_set_new(p, "name", json_string(name));
    return p;
}

static void test_converter_skips_and_tables(void **state)
{
    (void)state;
    ws_err err = {{0}};
    const char *ins = "{\"B1\": {\"attributes\": [\"old\"]}, \"B2\": {\"instruction\": \"x\"}, \"B1\": {\"attributes\":"
                      " [\"tea tree\"], \"instruction\": \"y\"}, \"B3\": {\"attributes\": []}, \"B4\": [1]}";
    ws_rawcat_table *attrs = ws_rawcat_table_load_mem(ins, strlen(ins), "ins", WS_RAWCAT_ATTRIBUTES, &err);
    assert_non_null(attrs);
    assert_int_equal(ws_rawcat_table_size(attrs), 4);
    const char *hum = "{\"B3\": [{\"instruction\": \"human\", \"price\": 12.5}]}";
    ws_rawcat_table *human = ws_rawcat_table_load_mem(hum, strlen(hum), "hum", WS_RAWCAT_HUMAN, &err);
    assert_non_null(human);
    json_t *v;
    assert_int_equal(ws_rawcat_table_get(attrs, "B1", 2, &v, &err), 1);
    char *d = dump(v);
    assert_string_equal(d, "[\"tea tree\"]"); /* the last entry of a repeated ASIN wins */
    free(d);
    json_decref(v);
    assert_int_equal(ws_rawcat_table_get(attrs, "B2", 2, &v, &err), 0); /* no "attributes" */
    assert_int_equal(ws_rawcat_table_get(attrs, "B4", 2, &v, &err), 0);
    assert_int_equal(ws_rawcat_table_get(attrs, "B9", 2, &v, &err), 0);
    assert_null(v);

    ws_rawcat *c = ws_rawcat_new(attrs, human, &err);
    static const struct { const char *asin; int want; const char *attrs; } cases[] = {
        {"B1", WS_RAW_DOC, "[\"tea tree\"]"},
        {"nan", WS_RAW_BAD_ASIN, NULL},
        {"B0123456789", WS_RAW_BAD_ASIN, NULL},                       /* 11 characters */
        {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", WS_RAW_DOC,
         "[\"DUMMY_ATTR\"]"},                                           /* 10 characters, 20 bytes */
        {"B1", WS_RAW_DUPLICATE, NULL},
        {"B2", WS_RAW_DOC, "[\"DUMMY_ATTR\"]"},
        {"B3", WS_RAW_DOC, "[]"},
        {"NaN", WS_RAW_DOC, "[\"DUMMY_ATTR\"]"},                       /* only lower-case "nan" is skipped */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *raw = product(cases[i].asin, i == 4 ? "later duplicate" : "first");
        json_t *doc;
        int rc = ws_rawcat_convert(c, raw, &doc, &err);
        if (rc != cases[i].want)
            fail_msg("case %zu (%s): rc %d, want %d (%s)", i, cases[i].asin, rc, cases[i].want, err.msg);
        if (rc == WS_RAW_DOC) {
            json_t *p = json_object_get(doc, "product");
            assert_string_equal(json_string_value(json_object_get(doc, "id")), cases[i].asin);
            d = dump(json_object_get(p, "Attributes"));
            assert_string_equal(d, cases[i].attrs);
            free(d);
            json_t *instr = json_object_get(p, "instructions");
            if (strcmp(cases[i].asin, "B3") == 0) {
                d = dump(instr);
                assert_string_equal(d, "[{\"instruction\":\"human\",\"price\":12.5}]");
                free(d);
            } else {
                assert_null(instr);
            }
            json_decref(doc);
        }
        json_decref(raw);
    }
    /* malformed: counted, and its ASIN claimed */
    json_t *raw = product("B7", "x");
    json_object_set_new(raw, "images", json_array());
    json_t *doc;
    assert_int_equal(ws_rawcat_convert(c, raw, &doc, &err), WS_RAW_MALFORMED);
    assert_non_null(strstr(err.msg, "asin B7: \"images\" is empty"));
    json_decref(raw);
    raw = product("B7", "x");
    assert_int_equal(ws_rawcat_convert(c, raw, &doc, &err), WS_RAW_DUPLICATE);
    json_decref(raw);
    raw = parse("{\"name\": \"no asin\"}");
    assert_int_equal(ws_rawcat_convert(c, raw, &doc, &err), WS_RAW_MALFORMED);
    assert_non_null(strstr(err.msg, "\"asin\" is missing"));
    json_decref(raw);
    raw = parse("[1, 2]");
    assert_int_equal(ws_rawcat_convert(c, raw, &doc, &err), WS_RAW_MALFORMED);
    json_decref(raw);

    const ws_rawcat_counts *n = ws_rawcat_get_counts(c);
    assert_int_equal(n->read, 12);
    assert_int_equal(n->written, 5);
    assert_int_equal(n->bad_asin, 2);
    assert_int_equal(n->duplicate, 2);
    assert_int_equal(n->malformed, 3);
    assert_true(ws_rawcat_bytes(c) > 0);
    ws_rawcat_free(c);
    ws_rawcat_table_free(attrs);
    ws_rawcat_table_free(human);

    /* side files must be objects */
    assert_null(ws_rawcat_table_load_mem("[1]", 3, "ins", WS_RAWCAT_ATTRIBUTES, &err));
    assert_non_null(strstr(err.msg, "ins: byte offset 0: expected a JSON object"));
    assert_null(ws_rawcat_table_load("/nonexistent/items_ins.json", WS_RAWCAT_ATTRIBUTES, &err));
    assert_non_null(strstr(err.msg, "cannot open"));
}

/* Many ASINs: the seen-set and the tables grow past their first sizes. */
static void test_many_asins(void **state)
{
    (void)state;
    size_t n = 20000;
    char *text = malloc(n * 40 + 16), *o = text;
    o += sprintf(o, "{");
    for (size_t i = 0; i < n; i++)
        o += sprintf(o, "%s\"A%07zu\":{\"attributes\":[\"a%zu\"]}", i ? "," : "", i, i);
    o += sprintf(o, "}");
    ws_err err;
    ws_rawcat_table *t = ws_rawcat_table_load_mem(text, (size_t)(o - text), "big", WS_RAWCAT_ATTRIBUTES, &err);
    assert_non_null(t);
    assert_int_equal(ws_rawcat_table_size(t), n);
    ws_rawcat *c = ws_rawcat_new(t, NULL, &err);
    for (size_t i = 0; i < n; i += 997) {
        char asin[16], want[32];
        snprintf(asin, sizeof asin, "A%07zu", i);
        json_t *raw = product(asin, "x"), *doc;
        assert_int_equal(ws_rawcat_convert(c, raw, &doc, &err), WS_RAW_DOC);
        snprintf(want, sizeof want, "a%zu", i);
        assert_string_equal(json_string_value(json_array_get(
            json_object_get(json_object_get(doc, "product"), "Attributes"), 0)), want);
        json_decref(doc);
        json_decref(raw);
        raw = product(asin, "again");
        assert_int_equal(ws_rawcat_convert(c, raw, &doc, &err), WS_RAW_DUPLICATE);
        json_decref(raw);
    }
    ws_rawcat_free(c);
    ws_rawcat_table_free(t);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_repr),
        cmocka_unit_test(test_pricing_texts),
        cmocka_unit_test(test_lower_and_strip),
        cmocka_unit_test(test_json_string),
        cmocka_unit_test(test_normalize_full),
        cmocka_unit_test(test_normalize_defaults_and_side_data),
        cmocka_unit_test(test_price_texts),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_converter_skips_and_tables),
        cmocka_unit_test(test_many_asins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
