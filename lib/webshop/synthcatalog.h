/* synthcatalog: a synthetic WebShop catalog of any size, recombined from a real one.
 *
 * A test and benchmark tool, not data: its products are plausible, never real. Each product is
 * written in WebShop's raw format (an element of items_shuffle.json, the fields catalog-convert
 * reads) with its entry of the attributes file (items_ins_v2.json), so that the whole path from
 * raw files to goals and episodes can run at sizes the real 1k catalog cannot reach.
 *
 * Owns the source pools: the usable products of a source catalog (a ws_catalog, borrowed)
 * grouped by (category, query), and by category alone for groups of one. Per product, drawn
 * from the seeded stream "catalog-synth":
 *   - an anchor: a source product, uniformly (so groups come up as often as in the source); its
 *     group is the product's group, and it gives category, query, product_category, images and
 *     the attributes entry whole (attributes and, when it has them, instruction and
 *     instruction_attributes: WebShop's synthetic goals need both, and the instruction's
 *     attributes stay among the product's own);
 *   - the title: a part of the anchor's words (half or more, from its start or its end) joined
 *     to the other end of another product's title from the group (from the category when the
 *     group has one product), so titles are new and an instruction's search is not exact;
 *   - description, bullet points (small_description), option groups (customization_options,
 *     each group kept whole: its name and every value with its image) and price each from a
 *     product of the group drawn on its own;
 *   - the price: that product's single price or range, scaled by one factor uniform in
 *     [0.8, 1.2) and rounded to cents, as Amazon's text "$a" or "$a - $b".
 * ASINs are "SYN" and the product's index in 7 base-36 digits ("SYN0000000", "SYN0000001",
 * ...): unique, 10 characters, and never a real ASIN (those begin with "B0" or are ISBN digits).
 *
 * Deterministic: the same source, seed and index give the same product on every platform, and
 * the first k products do not depend on how many follow (a smaller catalog is a prefix of a
 * larger one).
 * Memory: the source catalog and its pools plus the product being built (catalog-synth on the 1k:
 * 24 MB resident at 10k and at 100k products); nothing grows with the number generated. */
#ifndef WS_SYNTHCATALOG_H
#define WS_SYNTHCATALOG_H

#include <jansson.h>
#include <stdint.h>

#include "catalog.h"
#include "err.h"

#define WS_SYNTH_ASIN_PREFIX "SYN"
#define WS_SYNTH_MAX_PRODUCTS 78364164096LL /* 36^7: the indices 7 base-36 digits hold */

typedef struct ws_synth ws_synth;

typedef struct ws_synth_counts {
    long long products;         /* generated so far */
    long long with_instruction; /* whose attributes entry has an instruction (goals come from these) */
    long long with_options;     /* with at least one option group */
} ws_synth_counts;

/* Pools over `source` (borrowed: it must outlive the generator). Source products that
 * catalog-convert could not take back (no name, no image, ...) are left out; fails when none is
 * left. */
ws_synth *ws_synth_new(const ws_catalog *source, uint64_t seed, ws_err *err);
/* The next product: a new raw product in *raw, and in *attributes a new reference to its
 * attributes entry (NULL when the anchor has none: catalog-convert then gives it
 * ["DUMMY_ATTR"]). Fails (out of memory, or past WS_SYNTH_MAX_PRODUCTS) with err. */
int ws_synth_next(ws_synth *s, json_t **raw, json_t **attributes, ws_err *err);
const ws_synth_counts *ws_synth_get_counts(const ws_synth *s);
size_t ws_synth_sources(const ws_synth *s); /* usable source products */
size_t ws_synth_groups(const ws_synth *s);  /* (category, query) groups among them */
void ws_synth_free(ws_synth *s);

/* The ASIN of product `index` (< WS_SYNTH_MAX_PRODUCTS). */
void ws_synth_asin(long long index, char out[11]);

#endif
