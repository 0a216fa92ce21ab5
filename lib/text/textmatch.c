/* textmatch: thefuzz token_set_ratio, WebShop normalize_color, goal option text (textmatch.h).
 *
 * token_set_ratio follows rapidfuzz's fuzz.token_set_ratio as called by thefuzz 0.22:
 *   1. force_ascii: code points U+0080..U+00FF are deleted (not replaced);
 *   2. rapidfuzz default_process: alphanumerics (rapidfuzz's own Unicode table, embedded below)
 *      are lower-cased (simple one-to-one mapping), everything else becomes a space. The table
 *      is rapidfuzz's, not libunistring's or Python's: its Unicode is older, so the 525 letters
 *      and digits new in Unicode 14 (which libunistring 1.0 and Python 3.11 call alphanumeric)
 *      are spaces to it; and its lower case of U+0130 is a plain "i", as libunistring's;
 *   3. the words of each side, as sets; 0 when either set is empty; 100 when the sets intersect
 *      and one contains the other;
 *   4. else, with sect = the shared words and ab / ba the words only in a / only in b, each
 *      sorted and space-joined, the best of
 *        100 - 100 * indel(ab, ba) / (|sect ab| + |sect ba|)
 *        100 - 100 * (1 + |ab|) / (|sect| + |sect ab|)     (only when sect is not empty)
 *        100 - 100 * (1 + |ba|) / (|sect| + |sect ba|)
 *      where |sect ab| = |sect| + 1 + |ab| (no space when sect is empty), lengths in code points
 *      and indel = |ab| + |ba| - 2 LCS(ab, ba), exactly as rapidfuzz computes them in doubles;
 *   5. Python round(): half to even.
 * LCS is the bit-parallel algorithm of Allison-Dix / Hyyro (V' = (V + (V & M)) | (V & ~M)),
 * one 64-bit word for patterns up to 64 code points, a carry-propagating block beyond. */
#include "textmatch.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unictype.h>

struct tm_lower_run {
    uint32_t first, last, stride;
    int32_t delta;
};

/* BEGIN GENERATED TABLES: python3 tests/oracle/fuzz_parity.py --emit-tables (rapidfuzz 3.14.6) */
/* Code points >= U+0080 that rapidfuzz default_process keeps (alphanumeric). */
static const uint32_t tm_alnum[][2] = {
    {0xAA, 0xAA}, {0xB2, 0xB3}, {0xB5, 0xB5}, {0xB9, 0xBA}, {0xBC, 0xBE}, {0xC0, 0xD6},
    {0xD8, 0xF6}, {0xF8, 0x2C1}, {0x2C6, 0x2D1}, {0x2E0, 0x2E4}, {0x2EC, 0x2EC}, {0x2EE, 0x2EE},
    {0x370, 0x374}, {0x376, 0x377}, {0x37A, 0x37D}, {0x37F, 0x37F}, {0x386, 0x386},
    {0x388, 0x38A}, {0x38C, 0x38C}, {0x38E, 0x3A1}, {0x3A3, 0x3F5}, {0x3F7, 0x481},
    {0x48A, 0x52F}, {0x531, 0x556}, {0x559, 0x559}, {0x560, 0x588}, {0x5D0, 0x5EA},
    {0x5EF, 0x5F2}, {0x620, 0x64A}, {0x660, 0x669}, {0x66E, 0x66F}, {0x671, 0x6D3},
    {0x6D5, 0x6D5}, {0x6E5, 0x6E6}, {0x6EE, 0x6FC}, {0x6FF, 0x6FF}, {0x710, 0x710},
    {0x712, 0x72F}, {0x74D, 0x7A5}, {0x7B1, 0x7B1}, {0x7C0, 0x7EA}, {0x7F4, 0x7F5},
    {0x7FA, 0x7FA}, {0x800, 0x815}, {0x81A, 0x81A}, {0x824, 0x824}, {0x828, 0x828},
    {0x840, 0x858}, {0x860, 0x86A}, {0x8A0, 0x8B4}, {0x8B6, 0x8C7}, {0x904, 0x939},
    {0x93D, 0x93D}, {0x950, 0x950}, {0x958, 0x961}, {0x966, 0x96F}, {0x971, 0x980},
    {0x985, 0x98C}, {0x98F, 0x990}, {0x993, 0x9A8}, {0x9AA, 0x9B0}, {0x9B2, 0x9B2},
    {0x9B6, 0x9B9}, {0x9BD, 0x9BD}, {0x9CE, 0x9CE}, {0x9DC, 0x9DD}, {0x9DF, 0x9E1},
    {0x9E6, 0x9F1}, {0x9F4, 0x9F9}, {0x9FC, 0x9FC}, {0xA05, 0xA0A}, {0xA0F, 0xA10},
    {0xA13, 0xA28}, {0xA2A, 0xA30}, {0xA32, 0xA33}, {0xA35, 0xA36}, {0xA38, 0xA39},
    {0xA59, 0xA5C}, {0xA5E, 0xA5E}, {0xA66, 0xA6F}, {0xA72, 0xA74}, {0xA85, 0xA8D},
    {0xA8F, 0xA91}, {0xA93, 0xAA8}, {0xAAA, 0xAB0}, {0xAB2, 0xAB3}, {0xAB5, 0xAB9},
    {0xABD, 0xABD}, {0xAD0, 0xAD0}, {0xAE0, 0xAE1}, {0xAE6, 0xAEF}, {0xAF9, 0xAF9},
    {0xB05, 0xB0C}, {0xB0F, 0xB10}, {0xB13, 0xB28}, {0xB2A, 0xB30}, {0xB32, 0xB33},
    {0xB35, 0xB39}, {0xB3D, 0xB3D}, {0xB5C, 0xB5D}, {0xB5F, 0xB61}, {0xB66, 0xB6F},
    {0xB71, 0xB77}, {0xB83, 0xB83}, {0xB85, 0xB8A}, {0xB8E, 0xB90}, {0xB92, 0xB95},
    {0xB99, 0xB9A}, {0xB9C, 0xB9C}, {0xB9E, 0xB9F}, {0xBA3, 0xBA4}, {0xBA8, 0xBAA},
    {0xBAE, 0xBB9}, {0xBD0, 0xBD0}, {0xBE6, 0xBF2}, {0xC05, 0xC0C}, {0xC0E, 0xC10},
    {0xC12, 0xC28}, {0xC2A, 0xC39}, {0xC3D, 0xC3D}, {0xC58, 0xC5A}, {0xC60, 0xC61},
    {0xC66, 0xC6F}, {0xC78, 0xC7E}, {0xC80, 0xC80}, {0xC85, 0xC8C}, {0xC8E, 0xC90},
    {0xC92, 0xCA8}, {0xCAA, 0xCB3}, {0xCB5, 0xCB9}, {0xCBD, 0xCBD}, {0xCDE, 0xCDE},
    {0xCE0, 0xCE1}, {0xCE6, 0xCEF}, {0xCF1, 0xCF2}, {0xD04, 0xD0C}, {0xD0E, 0xD10},
    {0xD12, 0xD3A}, {0xD3D, 0xD3D}, {0xD4E, 0xD4E}, {0xD54, 0xD56}, {0xD58, 0xD61},
    {0xD66, 0xD78}, {0xD7A, 0xD7F}, {0xD85, 0xD96}, {0xD9A, 0xDB1}, {0xDB3, 0xDBB},
    {0xDBD, 0xDBD}, {0xDC0, 0xDC6}, {0xDE6, 0xDEF}, {0xE01, 0xE30}, {0xE32, 0xE33},
    {0xE40, 0xE46}, {0xE50, 0xE59}, {0xE81, 0xE82}, {0xE84, 0xE84}, {0xE86, 0xE8A},
    {0xE8C, 0xEA3}, {0xEA5, 0xEA5}, {0xEA7, 0xEB0}, {0xEB2, 0xEB3}, {0xEBD, 0xEBD},
    {0xEC0, 0xEC4}, {0xEC6, 0xEC6}, {0xED0, 0xED9}, {0xEDC, 0xEDF}, {0xF00, 0xF00},
    {0xF20, 0xF33}, {0xF40, 0xF47}, {0xF49, 0xF6C}, {0xF88, 0xF8C}, {0x1000, 0x102A},
    {0x103F, 0x1049}, {0x1050, 0x1055}, {0x105A, 0x105D}, {0x1061, 0x1061}, {0x1065, 0x1066},
    {0x106E, 0x1070}, {0x1075, 0x1081}, {0x108E, 0x108E}, {0x1090, 0x1099}, {0x10A0, 0x10C5},
    {0x10C7, 0x10C7}, {0x10CD, 0x10CD}, {0x10D0, 0x10FA}, {0x10FC, 0x1248}, {0x124A, 0x124D},
    {0x1250, 0x1256}, {0x1258, 0x1258}, {0x125A, 0x125D}, {0x1260, 0x1288}, {0x128A, 0x128D},
    {0x1290, 0x12B0}, {0x12B2, 0x12B5}, {0x12B8, 0x12BE}, {0x12C0, 0x12C0}, {0x12C2, 0x12C5},
    {0x12C8, 0x12D6}, {0x12D8, 0x1310}, {0x1312, 0x1315}, {0x1318, 0x135A}, {0x1369, 0x137C},
    {0x1380, 0x138F}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1401, 0x166C}, {0x166F, 0x167F},
    {0x1681, 0x169A}, {0x16A0, 0x16EA}, {0x16EE, 0x16F8}, {0x1700, 0x170C}, {0x170E, 0x1711},
    {0x1720, 0x1731}, {0x1740, 0x1751}, {0x1760, 0x176C}, {0x176E, 0x1770}, {0x1780, 0x17B3},
    {0x17D7, 0x17D7}, {0x17DC, 0x17DC}, {0x17E0, 0x17E9}, {0x17F0, 0x17F9}, {0x1810, 0x1819},
    {0x1820, 0x1878}, {0x1880, 0x1884}, {0x1887, 0x18A8}, {0x18AA, 0x18AA}, {0x18B0, 0x18F5},
    {0x1900, 0x191E}, {0x1946, 0x196D}, {0x1970, 0x1974}, {0x1980, 0x19AB}, {0x19B0, 0x19C9},
    {0x19D0, 0x19DA}, {0x1A00, 0x1A16}, {0x1A20, 0x1A54}, {0x1A80, 0x1A89}, {0x1A90, 0x1A99},
    {0x1AA7, 0x1AA7}, {0x1B05, 0x1B33}, {0x1B45, 0x1B4B}, {0x1B50, 0x1B59}, {0x1B83, 0x1BA0},
    {0x1BAE, 0x1BE5}, {0x1C00, 0x1C23}, {0x1C40, 0x1C49}, {0x1C4D, 0x1C7D}, {0x1C80, 0x1C88},
    {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF}, {0x1CE9, 0x1CEC}, {0x1CEE, 0x1CF3}, {0x1CF5, 0x1CF6},
    {0x1CFA, 0x1CFA}, {0x1D00, 0x1DBF}, {0x1E00, 0x1F15}, {0x1F18, 0x1F1D}, {0x1F20, 0x1F45},
    {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D},
    {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4},
    {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4},
    {0x1FF6, 0x1FFC}, {0x2070, 0x2071}, {0x2074, 0x2079}, {0x207F, 0x2089}, {0x2090, 0x209C},
    {0x2102, 0x2102}, {0x2107, 0x2107}, {0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D},
    {0x2124, 0x2124}, {0x2126, 0x2126}, {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2139},
    {0x213C, 0x213F}, {0x2145, 0x2149}, {0x214E, 0x214E}, {0x2150, 0x2189}, {0x2460, 0x249B},
    {0x24EA, 0x24FF}, {0x2776, 0x2793}, {0x2C00, 0x2C2E}, {0x2C30, 0x2C5E}, {0x2C60, 0x2CE4},
    {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3}, {0x2CFD, 0x2CFD}, {0x2D00, 0x2D25}, {0x2D27, 0x2D27},
    {0x2D2D, 0x2D2D}, {0x2D30, 0x2D67}, {0x2D6F, 0x2D6F}, {0x2D80, 0x2D96}, {0x2DA0, 0x2DA6},
    {0x2DA8, 0x2DAE}, {0x2DB0, 0x2DB6}, {0x2DB8, 0x2DBE}, {0x2DC0, 0x2DC6}, {0x2DC8, 0x2DCE},
    {0x2DD0, 0x2DD6}, {0x2DD8, 0x2DDE}, {0x2E2F, 0x2E2F}, {0x3005, 0x3007}, {0x3021, 0x3029},
    {0x3031, 0x3035}, {0x3038, 0x303C}, {0x3041, 0x3096}, {0x309D, 0x309F}, {0x30A1, 0x30FA},
    {0x30FC, 0x30FF}, {0x3105, 0x312F}, {0x3131, 0x318E}, {0x3192, 0x3195}, {0x31A0, 0x31BF},
    {0x31F0, 0x31FF}, {0x3220, 0x3229}, {0x3248, 0x324F}, {0x3251, 0x325F}, {0x3280, 0x3289},
    {0x32B1, 0x32BF}, {0x3400, 0x4DBF}, {0x4E00, 0x9FFC}, {0xA000, 0xA48C}, {0xA4D0, 0xA4FD},
    {0xA500, 0xA60C}, {0xA610, 0xA62B}, {0xA640, 0xA66E}, {0xA67F, 0xA69D}, {0xA6A0, 0xA6EF},
    {0xA717, 0xA71F}, {0xA722, 0xA788}, {0xA78B, 0xA7BF}, {0xA7C2, 0xA7CA}, {0xA7F5, 0xA801},
    {0xA803, 0xA805}, {0xA807, 0xA80A}, {0xA80C, 0xA822}, {0xA830, 0xA835}, {0xA840, 0xA873},
    {0xA882, 0xA8B3}, {0xA8D0, 0xA8D9}, {0xA8F2, 0xA8F7}, {0xA8FB, 0xA8FB}, {0xA8FD, 0xA8FE},
    {0xA900, 0xA925}, {0xA930, 0xA946}, {0xA960, 0xA97C}, {0xA984, 0xA9B2}, {0xA9CF, 0xA9D9},
    {0xA9E0, 0xA9E4}, {0xA9E6, 0xA9FE}, {0xAA00, 0xAA28}, {0xAA40, 0xAA42}, {0xAA44, 0xAA4B},
    {0xAA50, 0xAA59}, {0xAA60, 0xAA76}, {0xAA7A, 0xAA7A}, {0xAA7E, 0xAAAF}, {0xAAB1, 0xAAB1},
    {0xAAB5, 0xAAB6}, {0xAAB9, 0xAABD}, {0xAAC0, 0xAAC0}, {0xAAC2, 0xAAC2}, {0xAADB, 0xAADD},
    {0xAAE0, 0xAAEA}, {0xAAF2, 0xAAF4}, {0xAB01, 0xAB06}, {0xAB09, 0xAB0E}, {0xAB11, 0xAB16},
    {0xAB20, 0xAB26}, {0xAB28, 0xAB2E}, {0xAB30, 0xAB5A}, {0xAB5C, 0xAB69}, {0xAB70, 0xABE2},
    {0xABF0, 0xABF9}, {0xAC00, 0xD7A3}, {0xD7B0, 0xD7C6}, {0xD7CB, 0xD7FB}, {0xF900, 0xFA6D},
    {0xFA70, 0xFAD9}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFB1D, 0xFB1D}, {0xFB1F, 0xFB28},
    {0xFB2A, 0xFB36}, {0xFB38, 0xFB3C}, {0xFB3E, 0xFB3E}, {0xFB40, 0xFB41}, {0xFB43, 0xFB44},
    {0xFB46, 0xFBB1}, {0xFBD3, 0xFD3D}, {0xFD50, 0xFD8F}, {0xFD92, 0xFDC7}, {0xFDF0, 0xFDFB},
    {0xFE70, 0xFE74}, {0xFE76, 0xFEFC}, {0xFF10, 0xFF19}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A},
    {0xFF66, 0xFFBE}, {0xFFC2, 0xFFC7}, {0xFFCA, 0xFFCF}, {0xFFD2, 0xFFD7}, {0xFFDA, 0xFFDC},
    {0x10000, 0x1000B}, {0x1000D, 0x10026}, {0x10028, 0x1003A}, {0x1003C, 0x1003D},
    {0x1003F, 0x1004D}, {0x10050, 0x1005D}, {0x10080, 0x100FA}, {0x10107, 0x10133},
    {0x10140, 0x10178}, {0x1018A, 0x1018B}, {0x10280, 0x1029C}, {0x102A0, 0x102D0},
    {0x102E1, 0x102FB}, {0x10300, 0x10323}, {0x1032D, 0x1034A}, {0x10350, 0x10375},
    {0x10380, 0x1039D}, {0x103A0, 0x103C3}, {0x103C8, 0x103CF}, {0x103D1, 0x103D5},
    {0x10400, 0x1049D}, {0x104A0, 0x104A9}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10500, 0x10527}, {0x10530, 0x10563}, {0x10600, 0x10736}, {0x10740, 0x10755},
    {0x10760, 0x10767}, {0x10800, 0x10805}, {0x10808, 0x10808}, {0x1080A, 0x10835},
    {0x10837, 0x10838}, {0x1083C, 0x1083C}, {0x1083F, 0x10855}, {0x10858, 0x10876},
    {0x10879, 0x1089E}, {0x108A7, 0x108AF}, {0x108E0, 0x108F2}, {0x108F4, 0x108F5},
    {0x108FB, 0x1091B}, {0x10920, 0x10939}, {0x10980, 0x109B7}, {0x109BC, 0x109CF},
    {0x109D2, 0x10A00}, {0x10A10, 0x10A13}, {0x10A15, 0x10A17}, {0x10A19, 0x10A35},
    {0x10A40, 0x10A48}, {0x10A60, 0x10A7E}, {0x10A80, 0x10A9F}, {0x10AC0, 0x10AC7},
    {0x10AC9, 0x10AE4}, {0x10AEB, 0x10AEF}, {0x10B00, 0x10B35}, {0x10B40, 0x10B55},
    {0x10B58, 0x10B72}, {0x10B78, 0x10B91}, {0x10BA9, 0x10BAF}, {0x10C00, 0x10C48},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x10CFA, 0x10D23}, {0x10D30, 0x10D39},
    {0x10E60, 0x10E7E}, {0x10E80, 0x10EA9}, {0x10EB0, 0x10EB1}, {0x10F00, 0x10F27},
    {0x10F30, 0x10F45}, {0x10F51, 0x10F54}, {0x10FB0, 0x10FCB}, {0x10FE0, 0x10FF6},
    {0x11003, 0x11037}, {0x11052, 0x1106F}, {0x11083, 0x110AF}, {0x110D0, 0x110E8},
    {0x110F0, 0x110F9}, {0x11103, 0x11126}, {0x11136, 0x1113F}, {0x11144, 0x11144},
    {0x11147, 0x11147}, {0x11150, 0x11172}, {0x11176, 0x11176}, {0x11183, 0x111B2},
    {0x111C1, 0x111C4}, {0x111D0, 0x111DA}, {0x111DC, 0x111DC}, {0x111E1, 0x111F4},
    {0x11200, 0x11211}, {0x11213, 0x1122B}, {0x11280, 0x11286}, {0x11288, 0x11288},
    {0x1128A, 0x1128D}, {0x1128F, 0x1129D}, {0x1129F, 0x112A8}, {0x112B0, 0x112DE},
    {0x112F0, 0x112F9}, {0x11305, 0x1130C}, {0x1130F, 0x11310}, {0x11313, 0x11328},
    {0x1132A, 0x11330}, {0x11332, 0x11333}, {0x11335, 0x11339}, {0x1133D, 0x1133D},
    {0x11350, 0x11350}, {0x1135D, 0x11361}, {0x11400, 0x11434}, {0x11447, 0x1144A},
    {0x11450, 0x11459}, {0x1145F, 0x11461}, {0x11480, 0x114AF}, {0x114C4, 0x114C5},
    {0x114C7, 0x114C7}, {0x114D0, 0x114D9}, {0x11580, 0x115AE}, {0x115D8, 0x115DB},
    {0x11600, 0x1162F}, {0x11644, 0x11644}, {0x11650, 0x11659}, {0x11680, 0x116AA},
    {0x116B8, 0x116B8}, {0x116C0, 0x116C9}, {0x11700, 0x1171A}, {0x11730, 0x1173B},
    {0x11800, 0x1182B}, {0x118A0, 0x118F2}, {0x118FF, 0x11906}, {0x11909, 0x11909},
    {0x1190C, 0x11913}, {0x11915, 0x11916}, {0x11918, 0x1192F}, {0x1193F, 0x1193F},
    {0x11941, 0x11941}, {0x11950, 0x11959}, {0x119A0, 0x119A7}, {0x119AA, 0x119D0},
    {0x119E1, 0x119E1}, {0x119E3, 0x119E3}, {0x11A00, 0x11A00}, {0x11A0B, 0x11A32},
    {0x11A3A, 0x11A3A}, {0x11A50, 0x11A50}, {0x11A5C, 0x11A89}, {0x11A9D, 0x11A9D},
    {0x11AC0, 0x11AF8}, {0x11C00, 0x11C08}, {0x11C0A, 0x11C2E}, {0x11C40, 0x11C40},
    {0x11C50, 0x11C6C}, {0x11C72, 0x11C8F}, {0x11D00, 0x11D06}, {0x11D08, 0x11D09},
    {0x11D0B, 0x11D30}, {0x11D46, 0x11D46}, {0x11D50, 0x11D59}, {0x11D60, 0x11D65},
    {0x11D67, 0x11D68}, {0x11D6A, 0x11D89}, {0x11D98, 0x11D98}, {0x11DA0, 0x11DA9},
    {0x11EE0, 0x11EF2}, {0x11FB0, 0x11FB0}, {0x11FC0, 0x11FD4}, {0x12000, 0x12399},
    {0x12400, 0x1246E}, {0x12480, 0x12543}, {0x13000, 0x1342E}, {0x14400, 0x14646},
    {0x16800, 0x16A38}, {0x16A40, 0x16A5E}, {0x16A60, 0x16A69}, {0x16AD0, 0x16AED},
    {0x16B00, 0x16B2F}, {0x16B40, 0x16B43}, {0x16B50, 0x16B59}, {0x16B5B, 0x16B61},
    {0x16B63, 0x16B77}, {0x16B7D, 0x16B8F}, {0x16E40, 0x16E96}, {0x16F00, 0x16F4A},
    {0x16F50, 0x16F50}, {0x16F93, 0x16F9F}, {0x16FE0, 0x16FE1}, {0x16FE3, 0x16FE3},
    {0x17000, 0x187F7}, {0x18800, 0x18CD5}, {0x18D00, 0x18D08}, {0x1B000, 0x1B11E},
    {0x1B150, 0x1B152}, {0x1B164, 0x1B167}, {0x1B170, 0x1B2FB}, {0x1BC00, 0x1BC6A},
    {0x1BC70, 0x1BC7C}, {0x1BC80, 0x1BC88}, {0x1BC90, 0x1BC99}, {0x1D2E0, 0x1D2F3},
    {0x1D360, 0x1D378}, {0x1D400, 0x1D454}, {0x1D456, 0x1D49C}, {0x1D49E, 0x1D49F},
    {0x1D4A2, 0x1D4A2}, {0x1D4A5, 0x1D4A6}, {0x1D4A9, 0x1D4AC}, {0x1D4AE, 0x1D4B9},
    {0x1D4BB, 0x1D4BB}, {0x1D4BD, 0x1D4C3}, {0x1D4C5, 0x1D505}, {0x1D507, 0x1D50A},
    {0x1D50D, 0x1D514}, {0x1D516, 0x1D51C}, {0x1D51E, 0x1D539}, {0x1D53B, 0x1D53E},
    {0x1D540, 0x1D544}, {0x1D546, 0x1D546}, {0x1D54A, 0x1D550}, {0x1D552, 0x1D6A5},
    {0x1D6A8, 0x1D6C0}, {0x1D6C2, 0x1D6DA}, {0x1D6DC, 0x1D6FA}, {0x1D6FC, 0x1D714},
    {0x1D716, 0x1D734}, {0x1D736, 0x1D74E}, {0x1D750, 0x1D76E}, {0x1D770, 0x1D788},
    {0x1D78A, 0x1D7A8}, {0x1D7AA, 0x1D7C2}, {0x1D7C4, 0x1D7CB}, {0x1D7CE, 0x1D7FF},
    {0x1E100, 0x1E12C}, {0x1E137, 0x1E13D}, {0x1E140, 0x1E149}, {0x1E14E, 0x1E14E},
    {0x1E2C0, 0x1E2EB}, {0x1E2F0, 0x1E2F9}, {0x1E800, 0x1E8C4}, {0x1E8C7, 0x1E8CF},
    {0x1E900, 0x1E943}, {0x1E94B, 0x1E94B}, {0x1E950, 0x1E959}, {0x1EC71, 0x1ECAB},
    {0x1ECAD, 0x1ECAF}, {0x1ECB1, 0x1ECB4}, {0x1ED01, 0x1ED2D}, {0x1ED2F, 0x1ED3D},
    {0x1EE00, 0x1EE03}, {0x1EE05, 0x1EE1F}, {0x1EE21, 0x1EE22}, {0x1EE24, 0x1EE24},
    {0x1EE27, 0x1EE27}, {0x1EE29, 0x1EE32}, {0x1EE34, 0x1EE37}, {0x1EE39, 0x1EE39},
    {0x1EE3B, 0x1EE3B}, {0x1EE42, 0x1EE42}, {0x1EE47, 0x1EE47}, {0x1EE49, 0x1EE49},
    {0x1EE4B, 0x1EE4B}, {0x1EE4D, 0x1EE4F}, {0x1EE51, 0x1EE52}, {0x1EE54, 0x1EE54},
    {0x1EE57, 0x1EE57}, {0x1EE59, 0x1EE59}, {0x1EE5B, 0x1EE5B}, {0x1EE5D, 0x1EE5D},
    {0x1EE5F, 0x1EE5F}, {0x1EE61, 0x1EE62}, {0x1EE64, 0x1EE64}, {0x1EE67, 0x1EE6A},
    {0x1EE6C, 0x1EE72}, {0x1EE74, 0x1EE77}, {0x1EE79, 0x1EE7C}, {0x1EE7E, 0x1EE7E},
    {0x1EE80, 0x1EE89}, {0x1EE8B, 0x1EE9B}, {0x1EEA1, 0x1EEA3}, {0x1EEA5, 0x1EEA9},
    {0x1EEAB, 0x1EEBB}, {0x1F100, 0x1F10C}, {0x1FBF0, 0x1FBF9}, {0x20000, 0x2A6DD},
    {0x2A700, 0x2B734}, {0x2B740, 0x2B81D}, {0x2B820, 0x2CEA1}, {0x2CEB0, 0x2EBE0},
    {0x2F800, 0x2FA1D}, {0x30000, 0x3134A},
};
/* Its lower case beyond ASCII: c in [first, last], (c - first) % stride == 0 -> c + delta. */
static const struct tm_lower_run tm_lower[] = {
    {0xC0, 0xD6, 1, 32}, {0xD8, 0xDE, 1, 32}, {0x100, 0x12E, 2, 1}, {0x130, 0x130, 1, -199},
    {0x132, 0x136, 2, 1}, {0x139, 0x147, 2, 1}, {0x14A, 0x176, 2, 1}, {0x178, 0x178, 1, -121},
    {0x179, 0x17D, 2, 1}, {0x181, 0x181, 1, 210}, {0x182, 0x184, 2, 1}, {0x186, 0x186, 1, 206},
    {0x187, 0x187, 1, 1}, {0x189, 0x18A, 1, 205}, {0x18B, 0x18B, 1, 1}, {0x18E, 0x18E, 1, 79},
    {0x18F, 0x18F, 1, 202}, {0x190, 0x190, 1, 203}, {0x191, 0x191, 1, 1}, {0x193, 0x193, 1, 205},
    {0x194, 0x194, 1, 207}, {0x196, 0x196, 1, 211}, {0x197, 0x197, 1, 209}, {0x198, 0x198, 1, 1},
    {0x19C, 0x19C, 1, 211}, {0x19D, 0x19D, 1, 213}, {0x19F, 0x19F, 1, 214}, {0x1A0, 0x1A4, 2, 1},
    {0x1A6, 0x1A6, 1, 218}, {0x1A7, 0x1A7, 1, 1}, {0x1A9, 0x1A9, 1, 218}, {0x1AC, 0x1AC, 1, 1},
    {0x1AE, 0x1AE, 1, 218}, {0x1AF, 0x1AF, 1, 1}, {0x1B1, 0x1B2, 1, 217}, {0x1B3, 0x1B5, 2, 1},
    {0x1B7, 0x1B7, 1, 219}, {0x1B8, 0x1B8, 1, 1}, {0x1BC, 0x1BC, 1, 1}, {0x1C4, 0x1C4, 1, 2},
    {0x1C5, 0x1C5, 1, 1}, {0x1C7, 0x1C7, 1, 2}, {0x1C8, 0x1C8, 1, 1}, {0x1CA, 0x1CA, 1, 2},
    {0x1CB, 0x1DB, 2, 1}, {0x1DE, 0x1EE, 2, 1}, {0x1F1, 0x1F1, 1, 2}, {0x1F2, 0x1F4, 2, 1},
    {0x1F6, 0x1F6, 1, -97}, {0x1F7, 0x1F7, 1, -56}, {0x1F8, 0x21E, 2, 1}, {0x220, 0x220, 1, -130},
    {0x222, 0x232, 2, 1}, {0x23A, 0x23A, 1, 10795}, {0x23B, 0x23B, 1, 1}, {0x23D, 0x23D, 1, -163},
    {0x23E, 0x23E, 1, 10792}, {0x241, 0x241, 1, 1}, {0x243, 0x243, 1, -195},
    {0x244, 0x244, 1, 69}, {0x245, 0x245, 1, 71}, {0x246, 0x24E, 2, 1}, {0x370, 0x372, 2, 1},
    {0x376, 0x376, 1, 1}, {0x37F, 0x37F, 1, 116}, {0x386, 0x386, 1, 38}, {0x388, 0x38A, 1, 37},
    {0x38C, 0x38C, 1, 64}, {0x38E, 0x38F, 1, 63}, {0x391, 0x3A1, 1, 32}, {0x3A3, 0x3AB, 1, 32},
    {0x3CF, 0x3CF, 1, 8}, {0x3D8, 0x3EE, 2, 1}, {0x3F4, 0x3F4, 1, -60}, {0x3F7, 0x3F7, 1, 1},
    {0x3F9, 0x3F9, 1, -7}, {0x3FA, 0x3FA, 1, 1}, {0x3FD, 0x3FF, 1, -130}, {0x400, 0x40F, 1, 80},
    {0x410, 0x42F, 1, 32}, {0x460, 0x480, 2, 1}, {0x48A, 0x4BE, 2, 1}, {0x4C0, 0x4C0, 1, 15},
    {0x4C1, 0x4CD, 2, 1}, {0x4D0, 0x52E, 2, 1}, {0x531, 0x556, 1, 48}, {0x10A0, 0x10C5, 1, 7264},
    {0x10C7, 0x10C7, 1, 7264}, {0x10CD, 0x10CD, 1, 7264}, {0x13A0, 0x13EF, 1, 38864},
    {0x13F0, 0x13F5, 1, 8}, {0x1C90, 0x1CBA, 1, -3008}, {0x1CBD, 0x1CBF, 1, -3008},
    {0x1E00, 0x1E94, 2, 1}, {0x1E9E, 0x1E9E, 1, -7615}, {0x1EA0, 0x1EFE, 2, 1},
    {0x1F08, 0x1F0F, 1, -8}, {0x1F18, 0x1F1D, 1, -8}, {0x1F28, 0x1F2F, 1, -8},
    {0x1F38, 0x1F3F, 1, -8}, {0x1F48, 0x1F4D, 1, -8}, {0x1F59, 0x1F5F, 2, -8},
    {0x1F68, 0x1F6F, 1, -8}, {0x1F88, 0x1F8F, 1, -8}, {0x1F98, 0x1F9F, 1, -8},
    {0x1FA8, 0x1FAF, 1, -8}, {0x1FB8, 0x1FB9, 1, -8}, {0x1FBA, 0x1FBB, 1, -74},
    {0x1FBC, 0x1FBC, 1, -9}, {0x1FC8, 0x1FCB, 1, -86}, {0x1FCC, 0x1FCC, 1, -9},
    {0x1FD8, 0x1FD9, 1, -8}, {0x1FDA, 0x1FDB, 1, -100}, {0x1FE8, 0x1FE9, 1, -8},
    {0x1FEA, 0x1FEB, 1, -112}, {0x1FEC, 0x1FEC, 1, -7}, {0x1FF8, 0x1FF9, 1, -128},
    {0x1FFA, 0x1FFB, 1, -126}, {0x1FFC, 0x1FFC, 1, -9}, {0x2126, 0x2126, 1, -7517},
    {0x212A, 0x212A, 1, -8383}, {0x212B, 0x212B, 1, -8262}, {0x2132, 0x2132, 1, 28},
    {0x2160, 0x216F, 1, 16}, {0x2183, 0x2183, 1, 1}, {0x2C00, 0x2C2E, 1, 48},
    {0x2C60, 0x2C60, 1, 1}, {0x2C62, 0x2C62, 1, -10743}, {0x2C63, 0x2C63, 1, -3814},
    {0x2C64, 0x2C64, 1, -10727}, {0x2C67, 0x2C6B, 2, 1}, {0x2C6D, 0x2C6D, 1, -10780},
    {0x2C6E, 0x2C6E, 1, -10749}, {0x2C6F, 0x2C6F, 1, -10783}, {0x2C70, 0x2C70, 1, -10782},
    {0x2C72, 0x2C72, 1, 1}, {0x2C75, 0x2C75, 1, 1}, {0x2C7E, 0x2C7F, 1, -10815},
    {0x2C80, 0x2CE2, 2, 1}, {0x2CEB, 0x2CED, 2, 1}, {0x2CF2, 0x2CF2, 1, 1},
    {0xA640, 0xA66C, 2, 1}, {0xA680, 0xA69A, 2, 1}, {0xA722, 0xA72E, 2, 1},
    {0xA732, 0xA76E, 2, 1}, {0xA779, 0xA77B, 2, 1}, {0xA77D, 0xA77D, 1, -35332},
    {0xA77E, 0xA786, 2, 1}, {0xA78B, 0xA78B, 1, 1}, {0xA78D, 0xA78D, 1, -42280},
    {0xA790, 0xA792, 2, 1}, {0xA796, 0xA7A8, 2, 1}, {0xA7AA, 0xA7AA, 1, -42308},
    {0xA7AB, 0xA7AB, 1, -42319}, {0xA7AC, 0xA7AC, 1, -42315}, {0xA7AD, 0xA7AD, 1, -42305},
    {0xA7AE, 0xA7AE, 1, -42308}, {0xA7B0, 0xA7B0, 1, -42258}, {0xA7B1, 0xA7B1, 1, -42282},
    {0xA7B2, 0xA7B2, 1, -42261}, {0xA7B3, 0xA7B3, 1, 928}, {0xA7B4, 0xA7BE, 2, 1},
    {0xA7C2, 0xA7C2, 1, 1}, {0xA7C4, 0xA7C4, 1, -48}, {0xA7C5, 0xA7C5, 1, -42307},
    {0xA7C6, 0xA7C6, 1, -35384}, {0xA7C7, 0xA7C9, 2, 1}, {0xA7F5, 0xA7F5, 1, 1},
    {0xFF21, 0xFF3A, 1, 32}, {0x10400, 0x10427, 1, 40}, {0x104B0, 0x104D3, 1, 40},
    {0x10C80, 0x10CB2, 1, 64}, {0x118A0, 0x118BF, 1, 32}, {0x16E40, 0x16E5F, 1, 32},
    {0x1E900, 0x1E921, 1, 34},
};
/* END GENERATED TABLES */

/* WebShop's COLOR_SET (web_agent_site/engine/normalize.py), in its order: first match wins. */
static const char *const tm_colors[] = {
    "alabaster", "apricot", "aqua", "ash", "asphalt", "azure", "banana", "beige", "black",
    "blue", "blush", "bordeaux", "bronze", "brown", "burgundy", "camel", "camo", "caramel",
    "champagne", "charcoal", "cheetah", "chestnut", "chocolate", "christmas", "coffee",
    "cognac", "copper", "coral", "cranberry", "cream", "crystal", "dark", "denim", "eggplant",
    "elephant", "espresso", "fuchsia", "gold", "granite", "grape", "graphite", "grass", "gray",
    "green", "grey", "heather", "indigo", "ivory", "ivy", "khaki", "lavender", "lemon",
    "leopard", "light", "lilac", "lime", "magenta", "maroon", "mauve", "merlot", "midnight",
    "mint", "mocha", "multicolor", "mushroom", "mustard", "natural", "navy", "nude", "olive",
    "orange", "peach", "pewter", "pink", "plum", "purple", "rainbow", "red", "rose", "royal",
    "rust", "sand", "sapphire", "seashell", "silver", "skull", "slate", "steel", "stone",
    "stonewash", "sunflower", "tan", "taupe", "teal", "tiger", "turquoise", "violet", "walnut",
    "wheat", "white", "wine", "yellow",
};

#define TM_NCOLORS (sizeof tm_colors / sizeof tm_colors[0])
#define TM_SPACE 0x20u

/* ------------------------------------------------------------------ UTF-8 */

/* The code point at s[*pos] (n bytes in s), advancing *pos; -1 (one byte skipped) when the
 * bytes there are not valid UTF-8 (overlong, surrogate, beyond U+10FFFF, truncated). */
static int32_t tm_decode(const unsigned char *s, size_t n, size_t *pos)
{
    size_t i = *pos;
    uint32_t c = s[i], cp, min;
    size_t need;
    *pos = i + 1;
    if (c < 0x80)
        return (int32_t)c;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3, cp = c & 0x07, min = 0x10000;
    } else {
        return -1;
    }
    if (n - i - 1 < need)
        return -1;
    for (size_t k = 1; k <= need; k++) {
        uint32_t b = s[i + k];
        if ((b & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *pos = i + 1 + need;
    return (int32_t)cp;
}

/* Appends the UTF-8 encoding of cp at out; returns the bytes written. */
static size_t tm_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ------------------------------------------------------------------ processing */

/* default_process of ASCII: digits and lower-case letters kept, upper case lowered, else space */
static const unsigned char tm_ascii_fold[128] = {
#define S_ 0x20
    S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,
    S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,
    S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,  S_,
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', S_,  S_,  S_,  S_,  S_,  S_,
    S_,  'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', S_,  S_,  S_,  S_,  S_,
    S_,  'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', S_,  S_,  S_,  S_,  S_,
#undef S_
};

/* rapidfuzz default_process of one code point: its lower case when alphanumeric, else a space. */
static uint32_t tm_fold(uint32_t c)
{
    if (c < 0x80)
        return tm_ascii_fold[c];
    size_t lo = 0, hi = sizeof tm_alnum / sizeof tm_alnum[0];
    while (lo < hi) { /* first range whose end is >= c */
        size_t mid = lo + (hi - lo) / 2;
        if (tm_alnum[mid][1] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == sizeof tm_alnum / sizeof tm_alnum[0] || tm_alnum[lo][0] > c)
        return TM_SPACE;
    lo = 0, hi = sizeof tm_lower / sizeof tm_lower[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tm_lower[mid].last < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < sizeof tm_lower / sizeof tm_lower[0] && tm_lower[lo].first <= c &&
        (c - tm_lower[lo].first) % tm_lower[lo].stride == 0)
        return (uint32_t)((int32_t)c + tm_lower[lo].delta);
    return c;
}

/* force_ascii + default_process (before the strip) of the n bytes at s into out (room for n
 * code points); returns the code points written. */
static size_t tm_process(const char *s, size_t n, uint32_t *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t pos = 0, k = 0;
    while (pos < n) {
        if (u[pos] < 0x80) { /* fast path */
            out[k++] = tm_ascii_fold[u[pos++]];
            continue;
        }
        int32_t c = tm_decode(u, n, &pos);
        if (c < 0 || (c >= 0x80 && c <= 0xFF))
            continue;
        out[k++] = tm_fold((uint32_t)c);
    }
    return k;
}

/* ------------------------------------------------------------------ word sets */

typedef struct tm_tok {
    const uint32_t *p;
    size_t n;
} tm_tok;

static int tm_tok_cmp(const void *x, const void *y)
{
    const tm_tok *a = x, *b = y;
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++)
        if (a->p[i] != b->p[i])
            return a->p[i] < b->p[i] ? -1 : 1;
    return a->n < b->n ? -1 : a->n > b->n;
}

/* The distinct words of the processed text s[0..n), sorted by code points; returns the count. */
static size_t tm_words(const uint32_t *s, size_t n, tm_tok *toks)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == TM_SPACE) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && s[j] != TM_SPACE)
            j++;
        toks[k].p = s + i;
        toks[k].n = j - i;
        k++;
        i = j;
    }
    if (k > 1) {
        if (k <= 16) { /* insertion sort: the usual few words, no allocation */
            for (size_t i = 1; i < k; i++) {
                tm_tok t = toks[i];
                size_t j = i;
                for (; j > 0 && tm_tok_cmp(&toks[j - 1], &t) > 0; j--)
                    toks[j] = toks[j - 1];
                toks[j] = t;
            }
        } else {
            qsort(toks, k, sizeof *toks, tm_tok_cmp);
        }
        size_t u = 1;
        for (size_t i = 1; i < k; i++)
            if (tm_tok_cmp(&toks[i], &toks[u - 1]) != 0)
                toks[u++] = toks[i];
        k = u;
    }
    return k;
}

static size_t tm_append(uint32_t *out, size_t len, const tm_tok *t)
{
    if (len)
        out[len++] = TM_SPACE;
    memcpy(out + len, t->p, t->n * sizeof *out);
    return len + t->n;
}

/* ------------------------------------------------------------------ LCS */

static unsigned tm_popcount(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    return (unsigned)((x * 0x0101010101010101ULL) >> 56);
}

/* Index of a processed ASCII code point (space, digit or lower-case letter) in 0..36. */
static unsigned tm_ascii_index(uint32_t c)
{
    if (c >= 'a')
        return 11 + (c - 'a');
    if (c >= '0')
        return 1 + (c - '0');
    return 0;
}

static int tm_u32_cmp(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* Length of the longest common subsequence of processed texts p[0..m) and t[0..n), m <= n;
 * -1 on allocation failure. */
static long tm_lcs(const uint32_t *p, size_t m, const uint32_t *t, size_t n)
{
    if (m == 0)
        return 0;
    if (m <= 64) {
        uint64_t pm[37] = {0}, other[64];
        uint32_t other_cp[64];
        size_t k = 0;
        for (size_t i = 0; i < m; i++) {
            uint64_t bit = (uint64_t)1 << i;
            if (p[i] < 0x80) {
                pm[tm_ascii_index(p[i])] |= bit;
                continue;
            }
            size_t j = 0;
            while (j < k && other_cp[j] != p[i])
                j++;
            if (j == k)
                other_cp[k] = p[i], other[k++] = 0;
            other[j] |= bit;
        }
        uint64_t v = ~(uint64_t)0;
        for (size_t i = 0; i < n; i++) {
            uint64_t mask = 0;
            if (t[i] < 0x80) {
                mask = pm[tm_ascii_index(t[i])];
            } else {
                for (size_t j = 0; j < k; j++)
                    if (other_cp[j] == t[i]) {
                        mask = other[j];
                        break;
                    }
            }
            uint64_t u = v & mask;
            v = (v + u) | (v - u);
        }
        uint64_t live = m == 64 ? ~(uint64_t)0 : (((uint64_t)1 << m) - 1);
        return (long)tm_popcount(~v & live);
    }

    /* Blocked: rows of w words for the 37 ASCII symbols, each distinct non-ASCII code point of
     * p, and one all-zero row for code points absent from p. */
    size_t w = (m + 63) / 64;
    uint32_t *uniq = malloc(m * sizeof *uniq);
    if (!uniq)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (p[i] >= 0x80)
            uniq[k++] = p[i];
    if (k > 1) {
        qsort(uniq, k, sizeof *uniq, tm_u32_cmp);
        size_t u = 1;
        for (size_t i = 1; i < k; i++)
            if (uniq[i] != uniq[u - 1])
                uniq[u++] = uniq[i];
        k = u;
    }
    size_t rows = 37 + k + 1;
    uint64_t *pm = calloc((rows + 1) * w, sizeof *pm);
    if (!pm) {
        free(uniq);
        return -1;
    }
    uint64_t *v = pm + rows * w;
    for (size_t i = 0; i < m; i++) {
        size_t r;
        if (p[i] < 0x80) {
            r = tm_ascii_index(p[i]);
        } else {
            const uint32_t *f = bsearch(&p[i], uniq, k, sizeof *uniq, tm_u32_cmp);
            r = 37 + (size_t)(f - uniq);
        }
        pm[r * w + i / 64] |= (uint64_t)1 << (i % 64);
    }
    for (size_t j = 0; j < w; j++)
        v[j] = ~(uint64_t)0;
    for (size_t i = 0; i < n; i++) {
        size_t r;
        if (t[i] < 0x80) {
            r = tm_ascii_index(t[i]);
        } else {
            const uint32_t *f = k ? bsearch(&t[i], uniq, k, sizeof *uniq, tm_u32_cmp) : NULL;
            r = f ? 37 + (size_t)(f - uniq) : rows - 1;
        }
        const uint64_t *row = pm + r * w;
        uint64_t carry = 0;
        for (size_t j = 0; j < w; j++) {
            uint64_t vj = v[j], u = vj & row[j];
            uint64_t sum = vj + u;
            uint64_t c1 = sum < vj;
            uint64_t sum2 = sum + carry;
            carry = c1 | (sum2 < sum);
            v[j] = sum2 | (vj - u);
        }
    }
    long lcs = 0;
    for (size_t j = 0; j < w; j++) {
        uint64_t live = ~(uint64_t)0;
        if (j == w - 1 && m % 64)
            live = ((uint64_t)1 << (m % 64)) - 1;
        lcs += tm_popcount(~v[j] & live);
    }
    free(pm);
    free(uniq);
    return lcs;
}

/* ------------------------------------------------------------------ token_set_ratio */

/* rapidfuzz's norm_distance<100>: 100 - 100 * dist / lensum, in doubles as it computes it. */
static double tm_norm(size_t dist, size_t lensum)
{
    return lensum ? 100.0 - 100.0 * (double)dist / (double)lensum : 100.0;
}

/* Python round() of a score in [0, 100]: to nearest, ties to even (x - floor(x) is exact). */
static int tm_round(double x)
{
    double f = (double)(long)x; /* x >= 0: truncation is floor */
    double d = x - f;
    long i = (long)f;
    if (d > 0.5 || (d == 0.5 && (i & 1)))
        i++;
    return (int)i;
}

int ws_token_set_ratio(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    size_t la = strlen(a), lb = strlen(b);
    size_t ta = la / 2 + 1, tb = lb / 2 + 1; /* a word takes a code point and a separator */
    size_t need = (2 * la + 2 * lb) * sizeof(uint32_t) + (ta + tb) * sizeof(tm_tok);
    _Alignas(16) unsigned char stackbuf[16384];
    unsigned char *mem = need <= sizeof stackbuf ? stackbuf : malloc(need);
    if (!mem)
        return -1;
    tm_tok *wa = (tm_tok *)mem, *wb = wa + ta;
    uint32_t *pa = (uint32_t *)(wb + tb), *pb = pa + la, *ab = pb + lb, *ba = ab + la;

    size_t na = tm_words(pa, tm_process(a, la, pa), wa);
    size_t nb = tm_words(pb, tm_process(b, lb, pb), wb);
    int score = 0;
    if (na == 0 || nb == 0) /* rapidfuzz (after fuzzywuzzy): an empty side scores 0 */
        goto done;

    size_t i = 0, j = 0, sect_n = 0, sect_len = 0, ab_len = 0, ba_len = 0;
    while (i < na || j < nb) {
        int c = i == na ? 1 : j == nb ? -1 : tm_tok_cmp(&wa[i], &wb[j]);
        if (c == 0) {
            sect_len += wa[i].n;
            sect_n++;
            i++, j++;
        } else if (c < 0) {
            ab_len = tm_append(ab, ab_len, &wa[i++]);
        } else {
            ba_len = tm_append(ba, ba_len, &wb[j++]);
        }
    }
    if (sect_n)
        sect_len += sect_n - 1;
    if (sect_n && (ab_len == 0 || ba_len == 0)) {
        score = 100;
        goto done;
    }

    size_t sect_ab_len = sect_len + (sect_len != 0) + ab_len;
    size_t sect_ba_len = sect_len + (sect_len != 0) + ba_len;
    long lcs = ab_len <= ba_len ? tm_lcs(ab, ab_len, ba, ba_len) : tm_lcs(ba, ba_len, ab, ab_len);
    if (lcs < 0) {
        score = -1;
        goto done;
    }
    size_t dist = ab_len + ba_len - 2 * (size_t)lcs;
    double best = tm_norm(dist, sect_ab_len + sect_ba_len);
    if (sect_len) {
        double r = tm_norm(1 + ab_len, sect_len + sect_ab_len);
        if (r > best)
            best = r;
        r = tm_norm(1 + ba_len, sect_len + sect_ba_len);
        if (r > best)
            best = r;
    }
    score = tm_round(best);
done:
    if (mem != stackbuf)
        free(mem);
    return score;
}

char *ws_fuzz_process(const char *text)
{
    if (!text)
        return NULL;
    size_t n = strlen(text);
    uint32_t *cp = malloc((n ? n : 1) * sizeof *cp);
    char *out = malloc(4 * n + 1);
    if (!cp || !out) {
        free(cp);
        free(out);
        return NULL;
    }
    size_t k = tm_process(text, n, cp), lo = 0, len = 0;
    while (lo < k && cp[lo] == TM_SPACE)
        lo++;
    while (k > lo && cp[k - 1] == TM_SPACE)
        k--;
    for (size_t i = lo; i < k; i++)
        len += tm_encode(cp[i], out + len);
    out[len] = '\0';
    free(cp);
    return out;
}

/* ------------------------------------------------------------------ WebShop colors */

const char *ws_normalize_color(const char *text)
{
    if (!text)
        return NULL;
    for (size_t i = 0; i < TM_NCOLORS; i++)
        if (strstr(text, tm_colors[i]))
            return tm_colors[i];
    return NULL;
}

/* Python's str.isprintable for one code point: not Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs (but space). */
static bool tm_py_printable(uint32_t c)
{
    if (c == ' ')
        return true;
    return !uc_is_general_category(c, UC_CATEGORY_C) && !uc_is_general_category(c, UC_CATEGORY_Z);
}

/* Python's repr() of the UTF-8 text s, appended at out; returns the bytes written (at most
 * 10 per input byte, plus 2). */
static size_t tm_repr(const char *s, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(s), len = 0, pos;
    char quote = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    out[len++] = quote;
    for (pos = 0; pos < n;) {
        int32_t sc = tm_decode((const unsigned char *)s, n, &pos);
        if (sc < 0)
            continue;
        uint32_t c = (uint32_t)sc;
        if (c == (uint32_t)quote || c == '\\') {
            out[len++] = '\\';
            out[len++] = (char)c;
        } else if (c == '\t' || c == '\n' || c == '\r') {
            out[len++] = '\\';
            out[len++] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
        } else if (c < ' ' || c == 0x7F) {
            out[len++] = '\\', out[len++] = 'x';
            out[len++] = hex[c >> 4], out[len++] = hex[c & 15];
        } else if (c < 0x7F || tm_py_printable(c)) {
            len += tm_encode(c, out + len);
        } else {
            int digits = c <= 0xFF ? 2 : c <= 0xFFFF ? 4 : 8;
            out[len++] = '\\';
            out[len++] = digits == 2 ? 'x' : digits == 4 ? 'u' : 'U';
            for (int d = digits - 1; d >= 0; d--)
                out[len++] = hex[(c >> (4 * d)) & 15];
        }
    }
    out[len++] = quote;
    return len;
}

char *ws_goal_option_text(const char *name, const char *value)
{
    if (!name)
        name = "";
    if (!value)
        value = "";
    /* normalize_color(tuple): `color in (name, value)` is element equality, in COLOR_SET order */
    for (size_t i = 0; i < TM_NCOLORS; i++)
        if (strcmp(tm_colors[i], name) == 0 || strcmp(tm_colors[i], value) == 0)
            return strdup(tm_colors[i]);
    size_t cap = 10 * (strlen(name) + strlen(value)) + 16;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t len = 0;
    out[len++] = '(';
    len += tm_repr(name, out + len);
    out[len++] = ',';
    out[len++] = ' ';
    len += tm_repr(value, out + len);
    out[len++] = ')';
    out[len] = '\0';
    return out;
}
