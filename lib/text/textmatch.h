/* textmatch: WebShop's fuzzy text matching for the reward, bit-exact with the Python reference.
 *
 * Owns thefuzz's fuzz.token_set_ratio (thefuzz 0.22 over rapidfuzz 3.x: force_ascii drops
 * U+0080..U+00FF, rapidfuzz default_process lower-cases and turns non-alphanumerics into
 * spaces, word sets, exact Indel similarity, Python round()), WebShop's normalize_color and
 * its COLOR_SET, and the text WebShop actually compares for a synthetic goal option, which it
 * passes as a (name, value) tuple. Inputs are UTF-8; bytes that are not valid UTF-8 are
 * skipped. Thread-safe: no state beyond constant tables. */
#ifndef WS_TEXTMATCH_H
#define WS_TEXTMATCH_H

/* thefuzz's fuzz.token_set_ratio(a, b) with its defaults (force_ascii, full_process), 0..100.
 * A NULL string scores 0 (as None does); so does an empty word set on either side.
 * Returns -1 only on allocation failure. */
int ws_token_set_ratio(const char *a, const char *b);

/* WebShop's normalize_color: the first color of WebShop's COLOR_SET
 * (web_agent_site/engine/normalize.py, in that list's order) that occurs as a substring of
 * text, or NULL when none (WebShop then keeps the text itself). Note that it is a plain
 * substring test: "washed black" gives "ash", "standard" gives "tan". */
const char *ws_normalize_color(const char *text);

/* WebShop compares a synthetic goal option (name, value) as its Python str(tuple): returns the
 * text to match (caller frees), reduced to the color when value is exactly a COLOR_SET word
 * (or name is; then the earlier one in COLOR_SET wins, as normalize_color tests tuple
 * membership). Otherwise the text is Python's str((name, value)), e.g. "('size', 'x large')",
 * with repr's quoting and escapes ('\xa0' becomes the four characters \xa0, so a token "xa0").
 * NULL name or value counts as "". Returns NULL on allocation failure. */
char *ws_goal_option_text(const char *name, const char *value);

/* thefuzz's utils.full_process(text, force_ascii=True): what token_set_ratio compares, as
 * UTF-8 (caller frees). NULL on allocation failure or when text is NULL. */
char *ws_fuzz_process(const char *text);

#endif
