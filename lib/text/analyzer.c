#include "analyzer.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <unistr.h>
#include <uniwbrk.h>

#include "grow.h"

/* ---------------------------------------------------------------------------------------------
 * Character classes of the tokenizer grammar.
 *
 * Lucene's StandardTokenizerImpl is a JFlex scanner (Unicode 12.1 character tables, Emoji 11.0
 * emoji properties) that takes, at each position, the longest match among its token rules and
 * skips one code point where none matches. Its rules, and the classes they are written in:
 *   word:    ExtendNumLet* core (ExtendNumLet+ core)* ExtendNumLet*, where a core is a katakana run
 *            or a concatenation of letter runs (letters joined by MidLetter, MidNumLet, Single_Quote
 *            or ExtendNumLet*), number runs (digits joined by MidNum, MidNumLet, Single_Quote or
 *            ExtendNumLet*) and Hebrew letter + quote forms; numbers and katakana/hangul runs are
 *            subsets of it;
 *   emoji:   emoji characters, presentation and modifier sequences joined by ZWJ, tag sequences,
 *            keycaps, pairs of regional indicators;
 *   SE Asian runs (Line_Break = Complex_Context), single Han ideographs, single hiragana.
 * Every element absorbs the Format/Extend/ZWJ characters that follow it (UAX #29 WB4). The
 * rules are run here as small NFAs over these classes (match_at).
 */
enum {
    C_ALETTER = 1u << 0,
    C_HEBREW = 1u << 1,
    C_NUMERIC = 1u << 2,
    C_KATAKANA = 1u << 3,
    C_EXTNUMLET = 1u << 4,
    C_MIDLETTER = 1u << 5,
    C_MIDNUMLET = 1u << 6,
    C_MIDNUM = 1u << 7,
    C_SQUOTE = 1u << 8,
    C_DQUOTE = 1u << 9,
    C_EXT = 1u << 10,      /* WB Format, Extend or ZWJ */
    C_ZWJ = 1u << 11,
    C_RI = 1u << 12,       /* regional indicator */
    C_HAN = 1u << 13,
    C_HIRAGANA = 1u << 14,
    C_SEASIAN = 1u << 15,  /* Line_Break = Complex_Context */
    C_EMOJI = 1u << 16,    /* Extended_Pictographic, or Emoji but not RI/keycap base/accidental/modifier */
    C_EMOD_BASE = 1u << 17,
    C_EMOD = 1u << 18,
    C_KEYCAP_BASE = 1u << 19, /* [0-9#*] */
    C_KEYCAP = 1u << 20,      /* U+20E3 */
    C_PRES_SEL = 1u << 21,    /* U+FE0F */
    C_TEXT_SEL = 1u << 22,    /* U+FE0E */
    C_TAG_SPEC = 1u << 23,
    C_TAG_TERM = 1u << 24,
    C_KNOWN = 1u << 31,       /* cache entry filled */
};

#define C_MIDLETTER_ANY (C_MIDLETTER | C_MIDNUMLET | C_SQUOTE)
#define C_MIDNUM_ANY (C_MIDNUM | C_MIDNUMLET | C_SQUOTE)

/* Lucene 9's scanner tables are those of Unicode 12.1 (emoji properties from Emoji 11.0: the
 * oracle finds every character up to 12.1 treated as assigned, none of 13.0);
 * libunistring 1.0 knows Unicode 14. The tables below bridge the two; they were derived from
 * ICU 72's character ages and properties, and the oracle (tests/oracle/search.mk) checks the
 * tokenizer against Lucene on every code point in 13 contexts.
 *
 * Code points first assigned in Unicode 13.0 or 14.0: unassigned (WB = Other) for Lucene. */
static const ucs4_t assigned_after_12_1[][2] = {
    {0x061D, 0x061D}, {0x0870, 0x088E}, {0x0890, 0x0891}, {0x0898, 0x089F},
    {0x08B5, 0x08B5}, {0x08BE, 0x08D2}, {0x0B55, 0x0B55}, {0x0C3C, 0x0C3C},
    {0x0C5D, 0x0C5D}, {0x0CDD, 0x0CDD}, {0x0D04, 0x0D04}, {0x0D81, 0x0D81},
    {0x170D, 0x170D}, {0x1715, 0x1715}, {0x171F, 0x171F}, {0x180F, 0x180F},
    {0x1ABF, 0x1ACE}, {0x1B4C, 0x1B4C}, {0x1B7D, 0x1B7E}, {0x1DFA, 0x1DFA},
    {0x20C0, 0x20C0}, {0x2B97, 0x2B97}, {0x2C2F, 0x2C2F}, {0x2C5F, 0x2C5F},
    {0x2E50, 0x2E5D}, {0x31BB, 0x31BF}, {0x4DB6, 0x4DBF}, {0x9FF0, 0x9FFF},
    {0xA7C0, 0xA7C1}, {0xA7C7, 0xA7CA}, {0xA7D0, 0xA7D1}, {0xA7D3, 0xA7D3},
    {0xA7D5, 0xA7D9}, {0xA7F2, 0xA7F6}, {0xA82C, 0xA82C}, {0xAB68, 0xAB6B},
    {0xFBC2, 0xFBC2}, {0xFD40, 0xFD4F}, {0xFDCF, 0xFDCF}, {0xFDFE, 0xFDFF},
    {0x1019C, 0x1019C}, {0x10570, 0x1057A}, {0x1057C, 0x1058A}, {0x1058C, 0x10592},
    {0x10594, 0x10595}, {0x10597, 0x105A1}, {0x105A3, 0x105B1}, {0x105B3, 0x105B9},
    {0x105BB, 0x105BC}, {0x10780, 0x10785}, {0x10787, 0x107B0}, {0x107B2, 0x107BA},
    {0x10E80, 0x10EA9}, {0x10EAB, 0x10EAD}, {0x10EB0, 0x10EB1}, {0x10F70, 0x10F89},
    {0x10FB0, 0x10FCB}, {0x11070, 0x11075}, {0x110C2, 0x110C2}, {0x11147, 0x11147},
    {0x111CE, 0x111CF}, {0x1145A, 0x1145A}, {0x11460, 0x11461}, {0x116B9, 0x116B9},
    {0x11740, 0x11746}, {0x11900, 0x11906}, {0x11909, 0x11909}, {0x1190C, 0x11913},
    {0x11915, 0x11916}, {0x11918, 0x11935}, {0x11937, 0x11938}, {0x1193B, 0x11946},
    {0x11950, 0x11959}, {0x11AB0, 0x11ABF}, {0x11FB0, 0x11FB0}, {0x12F90, 0x12FF2},
    {0x16A70, 0x16ABE}, {0x16AC0, 0x16AC9}, {0x16FE4, 0x16FE4}, {0x16FF0, 0x16FF1},
    {0x18AF3, 0x18CD5}, {0x18D00, 0x18D08}, {0x1AFF0, 0x1AFF3}, {0x1AFF5, 0x1AFFB},
    {0x1AFFD, 0x1AFFE}, {0x1B11F, 0x1B122}, {0x1CF00, 0x1CF2D}, {0x1CF30, 0x1CF46},
    {0x1CF50, 0x1CFC3}, {0x1D1E9, 0x1D1EA}, {0x1DF00, 0x1DF1E}, {0x1E290, 0x1E2AE},
    {0x1E7E0, 0x1E7E6}, {0x1E7E8, 0x1E7EB}, {0x1E7ED, 0x1E7EE}, {0x1E7F0, 0x1E7FE},
    {0x1F10D, 0x1F10F}, {0x1F16D, 0x1F16F}, {0x1F1AD, 0x1F1AD}, {0x1F6D6, 0x1F6D7},
    {0x1F6DD, 0x1F6DF}, {0x1F6FB, 0x1F6FC}, {0x1F7F0, 0x1F7F0}, {0x1F8B0, 0x1F8B1},
    {0x1F90C, 0x1F90C}, {0x1F972, 0x1F972}, {0x1F977, 0x1F979}, {0x1F9A3, 0x1F9A4},
    {0x1F9AB, 0x1F9AD}, {0x1F9CB, 0x1F9CC}, {0x1FA74, 0x1FA74}, {0x1FA7B, 0x1FA7C},
    {0x1FA83, 0x1FA86}, {0x1FA96, 0x1FAAC}, {0x1FAB0, 0x1FABA}, {0x1FAC0, 0x1FAC5},
    {0x1FAD0, 0x1FAD9}, {0x1FAE0, 0x1FAE7}, {0x1FAF0, 0x1FAF6}, {0x1FB00, 0x1FB92},
    {0x1FB94, 0x1FBCA}, {0x1FBF0, 0x1FBF9}, {0x2A6D7, 0x2A6DF}, {0x2B735, 0x2B738},
    {0x30000, 0x3134A},
};

/* Line_Break = Complex_Context (South-East Asian scripts) as of Unicode 12.1. */
static const ucs4_t complex_context[][2] = {
    {0x0E01, 0x0E3A}, {0x0E40, 0x0E4E}, {0x0E81, 0x0E82}, {0x0E84, 0x0E84},
    {0x0E86, 0x0E8A}, {0x0E8C, 0x0EA3}, {0x0EA5, 0x0EA5}, {0x0EA7, 0x0EBD},
    {0x0EC0, 0x0EC4}, {0x0EC6, 0x0EC6}, {0x0EC8, 0x0ECD}, {0x0EDC, 0x0EDF},
    {0x1000, 0x103F}, {0x1050, 0x108F}, {0x109A, 0x109F}, {0x1780, 0x17D3},
    {0x17D7, 0x17D7}, {0x17DC, 0x17DD}, {0x1950, 0x196D}, {0x1970, 0x1974},
    {0x1980, 0x19AB}, {0x19B0, 0x19C9}, {0x19DA, 0x19DA}, {0x19DE, 0x19DF},
    {0x1A20, 0x1A5E}, {0x1A60, 0x1A7C}, {0x1AA0, 0x1AAD}, {0xA9E0, 0xA9EF},
    {0xA9FA, 0xA9FE}, {0xAA60, 0xAAC2}, {0xAADB, 0xAADF}, {0x11700, 0x1171A},
    {0x1171D, 0x1172B}, {0x1173A, 0x1173B}, {0x1173F, 0x1173F},
};

/* Word_Break values that changed after Unicode 12.1: Other for Lucene. */
static const ucs4_t wb_other_in_12_1[][2] = {
    {0x02E5, 0x02EB}, {0x055A, 0x055A}, {0x055F, 0x055F}, {0x058A, 0x058A}, {0xA708, 0xA716},
};

static bool in_ranges(const ucs4_t (*r)[2], size_t n, ucs4_t c)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < r[mid][0])
            hi = mid;
        else if (c > r[mid][1])
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

#define IN_TABLE(t, c) in_ranges((t), sizeof(t) / sizeof *(t), (c))

struct ws_analyzer {
    uint32_t *bmp;       /* class cache for U+0000..U+FFFF, filled on first use */
    const uc_script_t *han, *hiragana;
    /* scratch: the decoded text */
    uint32_t *cp, *cls, *pos; /* code point, class, byte offset; pos has n + 1 entries */
    size_t cp_cap;
    uint16_t *w16;            /* a token in UTF-16, for the stemmer */
    size_t w16_cap;
    char *word;               /* a token being filtered, UTF-8 */
    size_t word_cap;
};

static uint32_t compute_class(const ws_analyzer *an, ucs4_t c)
{
    uint32_t f = 0;
    if (c >= 0x1FB00 && c <= 0x1FBFF)
        return C_EMOJI; /* reserved Extended_Pictographic in Emoji 11.0 (legacy computing since 13.0) */
    if (IN_TABLE(assigned_after_12_1, c))
        return uc_is_property_extended_pictographic(c) ? C_EMOJI : 0;
    int wb = IN_TABLE(wb_other_in_12_1, c) ? WBP_OTHER : uc_wordbreak_property(c);
    switch (wb) {
    case WBP_ALETTER: f |= C_ALETTER; break;
    case WBP_HL: f |= C_HEBREW; break;
    case WBP_NUMERIC: f |= C_NUMERIC; break;
    case WBP_KATAKANA: f |= C_KATAKANA; break;
    case WBP_EXTENDNUMLET: f |= C_EXTNUMLET; break;
    case WBP_MIDLETTER: f |= C_MIDLETTER; break;
    case WBP_MIDNUMLET: f |= C_MIDNUMLET; break;
    case WBP_MIDNUM: f |= C_MIDNUM; break;
    case WBP_SQ: f |= C_SQUOTE; break;
    case WBP_DQ: f |= C_DQUOTE; break;
    case WBP_EXTEND: case WBP_FORMAT: f |= C_EXT; break;
    case WBP_ZWJ: f |= C_EXT | C_ZWJ; break;
    case WBP_RI: f |= C_RI; break;
    default: break;
    }
    /* Full-width digits are Numeric for the tokenizer (its NumericEx adds them explicitly). */
    if (c >= 0xFF10 && c <= 0xFF19)
        f = (f & ~(uint32_t)(C_ALETTER | C_EXT)) | C_NUMERIC;
    if (c == 0xFE0F)
        f |= C_PRES_SEL;
    if (c == 0xFE0E)
        f |= C_TEXT_SEL;
    if (c == 0x20E3)
        f |= C_KEYCAP;
    if ((c >= '0' && c <= '9') || c == '#' || c == '*')
        f |= C_KEYCAP_BASE;
    if (c >= 0xE0020 && c <= 0xE007E)
        f |= C_TAG_SPEC;
    if (c == 0xE007F)
        f |= C_TAG_TERM;
    if (uc_is_property_emoji_modifier(c))
        f |= C_EMOD;
    if (uc_is_property_emoji_modifier_base(c))
        f |= C_EMOD_BASE;
    bool accidental = c == 0xA9 || c == 0xAE || c == 0x2122 || c == 0x3030 || c == 0x303D;
    if (uc_is_property_extended_pictographic(c) ||
        (uc_is_property_emoji(c) && !(f & (C_RI | C_KEYCAP_BASE | C_EMOD)) && !accidental))
        f |= C_EMOJI;
    if (c >= 0x80) {
        const uc_script_t *s = uc_script(c);
        if (s && s == an->han && c != 0x16FE2) /* U+16FE2 was Common in Unicode 12.1 */
            f |= C_HAN;
        else if (s && s == an->hiragana)
            f |= C_HIRAGANA;
        if (IN_TABLE(complex_context, c))
            f |= C_SEASIAN;
    }
    return f;
}

static inline uint32_t char_class(ws_analyzer *an, ucs4_t c)
{
    if (c < 0x10000) {
        uint32_t f = an->bmp[c];
        if (f & C_KNOWN)
            return f;
        f = compute_class(an, c) | C_KNOWN;
        an->bmp[c] = f;
        return f;
    }
    return compute_class(an, c);
}

/* ---------------------------------------------------------------------------------------------
 * Token lists. */

void ws_tokens_init(ws_tokens *t) { memset(t, 0, sizeof *t); }

void ws_tokens_free(ws_tokens *t)
{
    if (!t)
        return;
    free(t->buf);
    free(t->off);
    memset(t, 0, sizeof *t);
}

static void tokens_clear(ws_tokens *t)
{
    t->n = 0;
    t->buf_len = 0;
}

static int tokens_push(ws_tokens *t, const char *s, size_t len, ws_err *err)
{
    size_t *o = ws_grow(t->off, &t->off_cap, t->n + 2, sizeof *o, 64);
    if (!o)
        return ws_fail(err, "analyzer: out of memory");
    t->off = o;
    char *b = ws_grow(t->buf, &t->buf_cap, t->buf_len + len + 1, 1, 1024);
    if (!b)
        return ws_fail(err, "analyzer: out of memory");
    t->buf = b;
    t->off[t->n] = t->buf_len;
    memcpy(t->buf + t->buf_len, s, len);
    t->buf_len += len;
    t->buf[t->buf_len++] = '\0';
    t->n++;
    t->off[t->n] = t->buf_len;
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Analyzer. */

ws_analyzer *ws_analyzer_new(ws_err *err)
{
    ws_analyzer *an = calloc(1, sizeof *an);
    if (!an || !(an->bmp = calloc(0x10000, sizeof *an->bmp))) {
        free(an);
        ws_fail(err, "analyzer: out of memory");
        return NULL;
    }
    an->han = uc_script_byname("Han");
    an->hiragana = uc_script_byname("Hiragana");
    if (!an->han || !an->hiragana) {
        ws_analyzer_free(an);
        ws_fail(err, "analyzer: libunistring lacks the Han/Hiragana scripts");
        return NULL;
    }
    return an;
}

void ws_analyzer_free(ws_analyzer *an)
{
    if (!an)
        return;
    free(an->bmp);
    free(an->cp);
    free(an->cls);
    free(an->pos);
    free(an->w16);
    free(an->word);
    free(an);
}

/* Decode text into an->cp / cls / pos; returns the number of code points or -1. */
static long decode(ws_analyzer *an, const char *text, size_t len, ws_err *err)
{
    if (len >= UINT32_MAX)
        return ws_fail(err, "analyzer: text of %zu bytes is too long", len), -1;
    if (len + 1 > an->cp_cap) {
        size_t cap = ws_grow_cap(an->cp_cap, len + 1, 256);
        uint32_t *cp = ws_realloc_array(an->cp, cap, sizeof *cp);
        if (cp)
            an->cp = cp;
        uint32_t *cls = cp ? ws_realloc_array(an->cls, cap, sizeof *cls) : NULL;
        if (cls)
            an->cls = cls;
        uint32_t *pos = cls ? ws_realloc_array(an->pos, cap, sizeof *pos) : NULL;
        if (!pos)
            return ws_fail(err, "analyzer: out of memory"), -1;
        an->pos = pos;
        an->cp_cap = cap;
    }
    const uint8_t *s = (const uint8_t *)text;
    size_t i = 0, n = 0;
    while (i < len) {
        ucs4_t c;
        int k;
        if (s[i] < 0x80) {
            c = s[i];
            k = 1;
        } else {
            k = u8_mbtouc(&c, s + i, len - i);
            if (k <= 0) {
                c = 0xFFFD;
                k = 1;
            }
        }
        an->cp[n] = c;
        an->cls[n] = char_class(an, c);
        an->pos[n] = (uint32_t)i;
        n++;
        i += (size_t)k;
    }
    an->pos[n] = (uint32_t)len;
    return (long)n;
}

#define MAX_TOKEN_UTF16 255 /* StandardTokenizer's default maxTokenLength */

static inline unsigned utf16_units(uint32_t c) { return c >= 0x10000 ? 2 : 1; }

/* Word-rule NFA states (see the grammar above). A core is a sequence of items: letter runs
 * (A ((ExtendNumLet* | MidLetter) A)*), number runs (likewise with MidNum) and the Hebrew forms
 * H ' and H " H; a new item may start right after any item or after ExtendNumLet. */
enum {
    W_START = 1 << 0,  /* start, or after leading ExtendNumLet only (not accepting) */
    W_LET = 1 << 1,    /* after a letter of a letter run */
    W_HEB = 1 << 2,    /* after a Hebrew letter that may also start a Hebrew form */
    W_LETMID = 1 << 3, /* letter + MidLetter/MidNumLet/Single_Quote: needs a letter */
    W_HEBQ = 1 << 4,   /* Hebrew letter + Single_Quote (an item) */
    W_HEBDQ = 1 << 5,  /* Hebrew letter + Double_Quote: needs a Hebrew letter */
    W_HEBEND = 1 << 6, /* the Hebrew letter that ends H " H */
    W_NUM = 1 << 7,    /* after a digit */
    W_NUMMID = 1 << 8, /* digit + MidNum/MidNumLet/Single_Quote: needs a digit */
    W_KATA = 1 << 9,   /* after katakana */
    W_ENL = 1 << 10,   /* after an item and ExtendNumLet+ (accepting) */
};
#define W_ACCEPT (W_LET | W_HEB | W_HEBQ | W_HEBEND | W_NUM | W_KATA | W_ENL)
#define W_ITEM_END (W_LET | W_HEB | W_HEBQ | W_HEBEND | W_NUM) /* a new item may follow */

static unsigned word_step(unsigned st, uint32_t f)
{
    unsigned nx = 0;
    if (st & (W_START | W_ENL)) {
        if (f & C_EXTNUMLET)
            nx |= (st & W_START) ? W_START : W_ENL;
        if (f & C_KATAKANA)
            nx |= W_KATA;
    }
    if (st & (W_START | W_ENL | W_ITEM_END)) {
        if (f & C_ALETTER)
            nx |= W_LET;
        if (f & C_HEBREW)
            nx |= W_HEB;
        if (f & C_NUMERIC)
            nx |= W_NUM;
    }
    if (st & W_LETMID && (f & (C_ALETTER | C_HEBREW)))
        nx |= W_LET;
    if (st & W_HEBDQ && (f & C_HEBREW))
        nx |= W_HEBEND;
    if (st & W_NUMMID && (f & C_NUMERIC))
        nx |= W_NUM;
    if (st & (W_ITEM_END | W_KATA) && (f & C_EXTNUMLET))
        nx |= W_ENL;
    if (st & (W_LET | W_HEB) && (f & C_MIDLETTER_ANY))
        nx |= W_LETMID;
    if (st & W_HEB) {
        if (f & C_SQUOTE)
            nx |= W_HEBQ;
        if (f & C_DQUOTE)
            nx |= W_HEBDQ;
    }
    if (st & W_NUM && (f & C_MIDNUM_ANY))
        nx |= W_NUMMID;
    if (st & W_KATA && (f & C_KATAKANA))
        nx |= W_KATA;
    return nx;
}

/* Emoji-rule NFA states. A unit is (ZWJ* EmojiChar X* FE0F?) or ((ZWJ* ModifierBase X*)?
 * Modifier X*), X = Format/Extend/ZWJ but the two variation selectors; _Z states have read a
 * leading ZWJ (after which a bare modifier is no longer allowed). Units of phase 1 (the first)
 * and phase 2 (after a joining ZWJ) differ only in that a tag sequence may follow a lone first
 * unit. */
enum {
    E1_START = 1 << 0, E1_ZWJ = 1 << 1, E1_CHAR = 1 << 2, E1_SEL = 1 << 3, E1_MBASE = 1 << 4,
    E1_MOD = 1 << 5,
    E2_START = 1 << 6, E2_ZWJ = 1 << 7, E2_CHAR = 1 << 8, E2_SEL = 1 << 9, E2_MBASE = 1 << 10,
    E2_MOD = 1 << 11,
    E_TAG = 1 << 12, E_TAGEND = 1 << 13,
    E_KC1 = 1 << 14, E_KC2 = 1 << 15, E_KC3 = 1 << 16,
    E_RI1 = 1 << 17, E_RI2 = 1 << 18,
};
#define E1_DONE (E1_CHAR | E1_SEL | E1_MOD)
#define E2_DONE (E2_CHAR | E2_SEL | E2_MOD)
#define E_ACCEPT (E1_DONE | E2_DONE | E_TAGEND | E_KC3 | E_RI2)

/* One unit's transitions; the unit's states are `base` shifted: START, ZWJ, CHAR, SEL, MBASE, MOD. */
static unsigned emoji_unit_step(unsigned st, uint32_t f, int shift)
{
    const unsigned start = E1_START << shift, zwj = E1_ZWJ << shift, chr = E1_CHAR << shift,
                   sel = E1_SEL << shift, mbase = E1_MBASE << shift, mod = E1_MOD << shift;
    unsigned nx = 0;
    bool x = (f & C_EXT) && !(f & (C_PRES_SEL | C_TEXT_SEL)); /* ExtFmtZwj sans selectors */
    if (st & (start | zwj)) {
        if (f & C_ZWJ)
            nx |= zwj;
        if (f & C_EMOJI)
            nx |= chr;
        if (f & C_EMOD_BASE)
            nx |= mbase;
    }
    if (st & start && (f & C_EMOD))
        nx |= mod;
    if (st & chr) {
        if (x)
            nx |= chr;
        if (f & C_PRES_SEL)
            nx |= sel;
    }
    if (st & mbase) {
        if (x)
            nx |= mbase;
        if (f & C_EMOD)
            nx |= mod;
    }
    if (st & mod && x)
        nx |= mod;
    return nx;
}

static unsigned emoji_step(unsigned st, uint32_t f)
{
    unsigned nx = emoji_unit_step(st, f, 0) | emoji_unit_step(st, f, 6);
    bool x = (f & C_EXT) && !(f & (C_PRES_SEL | C_TEXT_SEL));
    if (st & (E1_DONE | E2_DONE) && (f & C_ZWJ))
        nx |= E2_START;
    if (st & (E1_DONE | E_TAG) && (f & C_TAG_SPEC))
        nx |= E_TAG;
    if (st & E_TAG && (f & C_TAG_TERM))
        nx |= E_TAGEND;
    if (st & E_KC1) {
        if (x)
            nx |= E_KC1;
        if (f & C_PRES_SEL)
            nx |= E_KC2;
        if (f & C_KEYCAP)
            nx |= E_KC3;
    }
    if (st & E_KC2 && (f & C_KEYCAP))
        nx |= E_KC3;
    if (st & E_KC3 && x)
        nx |= E_KC3;
    if (st & E_RI1) {
        if (f & C_EXT)
            nx |= E_RI1;
        if (f & C_RI)
            nx |= E_RI2;
    }
    if (st & E_RI2 && (f & C_EXT))
        nx |= E_RI2;
    return nx;
}

/* Length in code points of the longest token starting at i (0 when none), within the
 * 255-UTF-16-unit limit. */
static size_t match_at(const ws_analyzer *an, size_t i, size_t n)
{
    const uint32_t *cls = an->cls;
    const uint32_t *cp = an->cp;
    uint32_t f0 = cls[i];
    size_t best = 0;
    unsigned units = utf16_units(cp[i]);

    /* word (and its subsets: numbers, katakana, hangul) */
    unsigned w = word_step(W_START, f0);
    /* emoji */
    unsigned e = emoji_unit_step(E1_START, f0, 0);
    if (f0 & C_KEYCAP_BASE)
        e |= E_KC1;
    if (f0 & C_RI)
        e |= E_RI1;
    /* single ideograph / hiragana (+ extenders), SE Asian runs */
    bool single = (f0 & (C_HAN | C_HIRAGANA)) != 0;
    bool sea = (f0 & C_SEASIAN) != 0;

    if ((w & W_ACCEPT) || (e & E_ACCEPT) || single || sea)
        best = 1;
    size_t j = i + 1;
    while (j < n && (w || e || single || sea)) {
        units += utf16_units(cp[j]);
        if (units > MAX_TOKEN_UTF16)
            break;
        uint32_t f = cls[j];
        if (w && !(f & C_EXT))
            w = word_step(w, f);
        if (e)
            e = emoji_step(e, f);
        if (single && !(f & C_EXT))
            single = false;
        if (sea && !(f & (C_SEASIAN | C_EXT)))
            sea = false;
        j++;
        if ((w & W_ACCEPT) || (e & E_ACCEPT) || single || sea)
            best = j - i;
    }
    return best;
}

typedef int (*token_fn)(ws_analyzer *an, const char *s, size_t len, ws_tokens *out, ws_err *err);

static int run_tokenizer(ws_analyzer *an, const char *text, size_t len, ws_tokens *out,
                         token_fn emit, ws_err *err)
{
    tokens_clear(out);
    if (!text)
        return ws_fail(err, "analyzer: no text");
    long nl = decode(an, text, len, err);
    if (nl < 0)
        return -1;
    size_t n = (size_t)nl;
    size_t i = 0;
    while (i < n) {
        size_t m = match_at(an, i, n);
        if (m == 0) {
            i++;
            continue;
        }
        if (emit(an, text + an->pos[i], an->pos[i + m] - an->pos[i], out, err))
            return -1;
        i += m;
    }
    return 0;
}

static int emit_raw(ws_analyzer *an, const char *s, size_t len, ws_tokens *out, ws_err *err)
{
    (void)an;
    return tokens_push(out, s, len, err);
}

int ws_tokenize(ws_analyzer *an, const char *text, size_t len, ws_tokens *out, ws_err *err)
{
    return run_tokenizer(an, text, len, out, emit_raw, err);
}

/* Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, sorted. */
static const char *const stop_words[] = {
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they",
    "this", "to", "was", "will", "with"};

static bool is_stop_word(const char *s, size_t len)
{
    if (len > 5)
        return false;
    size_t lo = 0, hi = sizeof stop_words / sizeof *stop_words;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *w = stop_words[mid];
        size_t wl = strlen(w);
        int c = memcmp(s, w, len < wl ? len : wl);
        if (c == 0)
            c = (len > wl) - (len < wl);
        if (c == 0)
            return true;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

/* EnglishPossessiveFilter, LowerCaseFilter, StopFilter, PorterStemFilter on one token. */
static int emit_term(ws_analyzer *an, const char *s, size_t len, ws_tokens *out, ws_err *err)
{
    const uint8_t *u = (const uint8_t *)s;
    /* possessive: a final 's or 'S after ', U+2019 or U+FF07 */
    if (len >= 2 && (s[len - 1] == 's' || s[len - 1] == 'S')) {
        if (s[len - 2] == '\'')
            len -= 2;
        else if (len >= 4 && u[len - 4] == 0xE2 && u[len - 3] == 0x80 && u[len - 2] == 0x99)
            len -= 4; /* U+2019 */
        else if (len >= 4 && u[len - 4] == 0xEF && u[len - 3] == 0xBC && u[len - 2] == 0x87)
            len -= 4; /* U+FF07 */
    }
    /* lower-case into an->word (simple case mapping, code point by code point) */
    char *w = ws_grow(an->word, &an->word_cap, len * 2 + 8, 1, 256);
    if (!w)
        return ws_fail(err, "analyzer: out of memory");
    an->word = w;
    size_t wl = 0;
    bool ascii = true;
    for (size_t i = 0; i < len;) {
        if (u[i] < 0x80) {
            char c = s[i++];
            an->word[wl++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
            continue;
        }
        ascii = false;
        ucs4_t c;
        int k = u8_mbtouc(&c, u + i, len - i);
        if (k <= 0)
            k = 1;
        i += (size_t)k;
        ucs4_t lc = uc_tolower(c);
        if (wl + 4 > an->word_cap) {
            if (!(w = ws_grow(an->word, &an->word_cap, wl + 8, 1, 256)))
                return ws_fail(err, "analyzer: out of memory");
            an->word = w;
        }
        int m = u8_uctomb((uint8_t *)an->word + wl, lc, 4);
        if (m > 0)
            wl += (size_t)m;
    }
    if (ascii && is_stop_word(an->word, wl))
        return 0;
    /* Porter on UTF-16 units */
    uint16_t *w16 = ws_grow(an->w16, &an->w16_cap, wl + 1, sizeof *w16, 256);
    if (!w16)
        return ws_fail(err, "analyzer: out of memory");
    an->w16 = w16;
    if (ascii) {
        for (size_t i = 0; i < wl; i++)
            an->w16[i] = (uint8_t)an->word[i];
        size_t sl = ws_porter_stem(an->w16, wl);
        for (size_t i = 0; i < sl; i++)
            an->word[i] = (char)an->w16[i];
        return tokens_push(out, an->word, sl, err);
    }
    size_t n16 = an->w16_cap;
    uint16_t *r = u8_to_u16((const uint8_t *)an->word, wl, an->w16, &n16);
    if (!r)
        return ws_fail(err, "analyzer: cannot convert a token to UTF-16");
    if (r != an->w16) { /* libunistring allocated a larger buffer */
        free(an->w16);
        an->w16 = r;
        an->w16_cap = n16;
    }
    size_t sl = ws_porter_stem(an->w16, n16);
    size_t n8 = an->word_cap;
    uint8_t *r8 = u16_to_u8(an->w16, sl, (uint8_t *)an->word, &n8);
    if (!r8)
        return ws_fail(err, "analyzer: cannot convert a token to UTF-8");
    if (r8 != (uint8_t *)an->word) {
        free(an->word);
        an->word = (char *)r8;
        an->word_cap = n8;
    }
    return tokens_push(out, an->word, n8, err);
}

int ws_analyze_n(ws_analyzer *an, const char *text, size_t len, ws_tokens *out, ws_err *err)
{
    return run_tokenizer(an, text, len, out, emit_term, err);
}

int ws_analyze(ws_analyzer *an, const char *text, ws_tokens *out, ws_err *err)
{
    if (!text) {
        tokens_clear(out);
        return ws_fail(err, "analyzer: no text");
    }
    return ws_analyze_n(an, text, strlen(text), out, err);
}

/* ---------------------------------------------------------------------------------------------
 * Porter stemmer, as Lucene's PorterStemmer runs it. (libstemmer's "porter" is the published
 * algorithm without the reference implementation's departures and stems differently: xs -> x,
 * us -> u, possibly -> possibli, analogy -> analogi; so it is not used.) Lucene's: the 1980 algorithm over UTF-16 units where
 * a, e, i, o, u are vowels, y is a vowel after a consonant, everything else is a consonant;
 * words of at most two units are left alone; step 2 maps -bli to -ble (not -abli to -able) and
 * -logi to -log. */

typedef struct {
    uint16_t *b;
    long k; /* index of the last unit */
    long j; /* end of the stem the last successful suffix test left */
} porter;

static bool is_vowel_letter(uint16_t c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

static bool cons(const porter *p, long i)
{
    long t = i;
    while (t > 0 && p->b[t] == 'y')
        t--;
    bool base = p->b[t] == 'y' ? true : !is_vowel_letter(p->b[t]);
    return ((i - t) & 1) ? !base : base;
}

/* The number of vowel-consonant sequences in b[0..j]. */
static int measure(const porter *p)
{
    int n = 0;
    long i = 0;
    while (i <= p->j && cons(p, i))
        i++;
    for (;;) {
        while (i <= p->j && !cons(p, i))
            i++;
        if (i > p->j)
            return n;
        while (i <= p->j && cons(p, i))
            i++;
        n++;
        if (i > p->j)
            return n;
    }
}

static bool vowel_in_stem(const porter *p)
{
    for (long i = 0; i <= p->j; i++)
        if (!cons(p, i))
            return true;
    return false;
}

static bool double_cons(const porter *p, long j)
{
    return j >= 1 && p->b[j] == p->b[j - 1] && cons(p, j);
}

static bool cvc(const porter *p, long i)
{
    if (i < 2 || !cons(p, i) || cons(p, i - 1) || !cons(p, i - 2))
        return false;
    uint16_t c = p->b[i];
    return !(c == 'w' || c == 'x' || c == 'y');
}

static bool ends(porter *p, const char *s)
{
    long l = (long)strlen(s);
    long o = p->k - l + 1;
    if (o < 0)
        return false;
    for (long i = 0; i < l; i++)
        if (p->b[o + i] != (uint8_t)s[i])
            return false;
    p->j = p->k - l;
    return true;
}

static void set_to(porter *p, const char *s)
{
    long l = (long)strlen(s);
    for (long i = 0; i < l; i++)
        p->b[p->j + 1 + i] = (uint8_t)s[i];
    p->k = p->j + l;
}

static void replace_if_m(porter *p, const char *s)
{
    if (measure(p) > 0)
        set_to(p, s);
}

static void step_plurals_ed_ing(porter *p)
{
    if (p->b[p->k] == 's') {
        if (ends(p, "sses"))
            p->k -= 2;
        else if (ends(p, "ies"))
            set_to(p, "i");
        else if (p->b[p->k - 1] != 's')
            p->k--;
    }
    if (ends(p, "eed")) {
        if (measure(p) > 0)
            p->k--;
    } else if ((ends(p, "ed") || ends(p, "ing")) && vowel_in_stem(p)) {
        p->k = p->j;
        if (ends(p, "at"))
            set_to(p, "ate");
        else if (ends(p, "bl"))
            set_to(p, "ble");
        else if (ends(p, "iz"))
            set_to(p, "ize");
        else if (double_cons(p, p->k)) {
            uint16_t c = p->b[p->k];
            if (!(c == 'l' || c == 's' || c == 'z'))
                p->k--;
        } else if (measure(p) == 1 && cvc(p, p->k))
            set_to(p, "e");
    }
}

static void step_y(porter *p)
{
    if (ends(p, "y") && vowel_in_stem(p))
        p->b[p->k] = 'i';
}

/* A suffix table entry: when the word ends with `from`, it becomes `to` if the stem has m > 0;
 * the first matching entry of a group decides, whether or not it applies. */
typedef struct {
    const char *from, *to;
} suffix_rule;

static void apply_first(porter *p, const suffix_rule *rules, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ends(p, rules[i].from)) {
            replace_if_m(p, rules[i].to);
            return;
        }
}

#define RULES(...) ((const suffix_rule[]){__VA_ARGS__}), \
    (sizeof((const suffix_rule[]){__VA_ARGS__}) / sizeof(suffix_rule))

static void step_double_suffixes(porter *p)
{
    if (p->k == 0)
        return;
    switch (p->b[p->k - 1]) {
    case 'a': apply_first(p, RULES({"ational", "ate"}, {"tional", "tion"})); break;
    case 'c': apply_first(p, RULES({"enci", "ence"}, {"anci", "ance"})); break;
    case 'e': apply_first(p, RULES({"izer", "ize"})); break;
    case 'l':
        apply_first(p, RULES({"bli", "ble"}, {"alli", "al"}, {"entli", "ent"}, {"eli", "e"},
                             {"ousli", "ous"}));
        break;
    case 'o': apply_first(p, RULES({"ization", "ize"}, {"ation", "ate"}, {"ator", "ate"})); break;
    case 's':
        apply_first(p, RULES({"alism", "al"}, {"iveness", "ive"}, {"fulness", "ful"},
                             {"ousness", "ous"}));
        break;
    case 't': apply_first(p, RULES({"aliti", "al"}, {"iviti", "ive"}, {"biliti", "ble"})); break;
    case 'g': apply_first(p, RULES({"logi", "log"})); break;
    default: break;
    }
}

static void step_ic_full_ness(porter *p)
{
    switch (p->b[p->k]) {
    case 'e': apply_first(p, RULES({"icate", "ic"}, {"ative", ""}, {"alize", "al"})); break;
    case 'i': apply_first(p, RULES({"iciti", "ic"})); break;
    case 'l': apply_first(p, RULES({"ical", "ic"}, {"ful", ""})); break;
    case 's': apply_first(p, RULES({"ness", ""})); break;
    default: break;
    }
}

static bool ends_any(porter *p, const char *const *suffixes)
{
    for (; *suffixes; suffixes++)
        if (ends(p, *suffixes))
            return true;
    return false;
}

static void step_suffixes(porter *p)
{
    if (p->k == 0)
        return;
    bool hit;
    switch (p->b[p->k - 1]) {
    case 'a': hit = ends(p, "al"); break;
    case 'c': hit = ends_any(p, (const char *const[]){"ance", "ence", NULL}); break;
    case 'e': hit = ends(p, "er"); break;
    case 'i': hit = ends(p, "ic"); break;
    case 'l': hit = ends_any(p, (const char *const[]){"able", "ible", NULL}); break;
    case 'n': hit = ends_any(p, (const char *const[]){"ant", "ement", "ment", "ent", NULL}); break;
    case 'o':
        hit = (ends(p, "ion") && p->j >= 0 && (p->b[p->j] == 's' || p->b[p->j] == 't')) ||
              ends(p, "ou");
        break;
    case 's': hit = ends(p, "ism"); break;
    case 't': hit = ends_any(p, (const char *const[]){"ate", "iti", NULL}); break;
    case 'u': hit = ends(p, "ous"); break;
    case 'v': hit = ends(p, "ive"); break;
    case 'z': hit = ends(p, "ize"); break;
    default: hit = false; break;
    }
    if (hit && measure(p) > 1)
        p->k = p->j;
}

static void step_final_e_ll(porter *p)
{
    p->j = p->k;
    if (p->b[p->k] == 'e') {
        int a = measure(p);
        if (a > 1 || (a == 1 && !cvc(p, p->k - 1)))
            p->k--;
    }
    if (p->b[p->k] == 'l' && double_cons(p, p->k) && measure(p) > 1)
        p->k--;
}

size_t ws_porter_stem(uint16_t *w, size_t n)
{
    if (n <= 2)
        return n;
    porter p = {w, (long)n - 1, 0};
    step_plurals_ed_ing(&p);
    step_y(&p);
    step_double_suffixes(&p);
    step_ic_full_ness(&p);
    step_suffixes(&p);
    step_final_e_ll(&p);
    return (size_t)(p.k + 1);
}
