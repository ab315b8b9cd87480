/* Plot text: anti-aliased glyphs from a built-in atlas of DejaVu Sans
 * (plots/font_atlas.c, 4-bit coverage, no font file at run time; docs/font.md),
 * UTF-8 input, and a small markup for the research labels:
 *
 *   x_i  x_max  x_{i+1}    subscript: one ASCII letter/digit run, one other
 *                          character, or a {group}
 *   x^2  x^T    x^{-1}     superscript, the same rules
 *   ² ³ ¹ ⁰..⁹ ᵀ ⁺ ⁻ ₀..₉   Unicode script characters, drawn like ^2, _1, ...
 *   \_ \^ \{ \} \\         the character itself
 *
 * A subscript right after a superscript (or the reverse) starts at the same
 * x, so ‖W‖²_F stacks the 2 over the F as typeset mathematics does.
 *
 * Text scales 1, 2, 3 (the sizes the figures use) map to 11, 18 and 26 pixels
 * per em, scripts to the next size down; the old bitmap font's line heights
 * (9, 18, 27 pixels at scales 1..3) are kept close so the layouts stay. */
#include "plots/plots.h"
#include "metrics/metrics.h"
#include "plots/font_atlas.h"
#include "plots/text.h"

#include <string.h>

enum { SZ8, SZ11, SZ13, SZ18, SZ26 };

static int main_size(int scale) { return scale <= 1 ? SZ11 : scale == 2 ? SZ18 : SZ26; }
static int script_size(int scale) { return scale <= 1 ? SZ8 : scale == 2 ? SZ13 : SZ18; }

/* Next code point of s (advances *s); malformed UTF-8 gives '?' and skips
 * one byte, so no input can stall or overrun the loop. */
static int utf8_next(const char **s)
{
    const unsigned char *p = (const unsigned char *)*s;
    int cp, n, i;
    if (p[0] < 0x80) { *s += 1; return p[0]; }
    if ((p[0] & 0xE0) == 0xC0) { cp = p[0] & 0x1F; n = 1; }
    else if ((p[0] & 0xF0) == 0xE0) { cp = p[0] & 0x0F; n = 2; }
    else if ((p[0] & 0xF8) == 0xF0) { cp = p[0] & 0x07; n = 3; }
    else { *s += 1; return '?'; }
    for (i = 1; i <= n; i++) {
        if ((p[i] & 0xC0) != 0x80) { *s += 1; return '?'; }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    *s += n + 1;
    return cp;
}

static const muon_glyph *find_glyph(const muon_font_size *f, int cp)
{
    int lo = 0, hi = f->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (f->glyphs[mid].cp == cp) return &f->glyphs[mid];
        if (f->glyphs[mid].cp < cp) lo = mid + 1;
        else hi = mid - 1;
    }
    return cp == '?' ? NULL : find_glyph(f, '?');
}

/* Unicode super-/subscript characters: the plain character and the script
 * (1 superscript, -1 subscript), or 0 if cp is none of them. */
static int script_char(int cp, int *plain)
{
    static const int sup_digits[10] = { 0x2070, 0x00B9, 0x00B2, 0x00B3, 0x2074, 0x2075, 0x2076, 0x2077, 0x2078, 0x2079 };
    int i;
    for (i = 0; i < 10; i++)
        if (cp == sup_digits[i]) { *plain = '0' + i; return 1; }
    if (cp >= 0x2080 && cp <= 0x2089) { *plain = '0' + (cp - 0x2080); return -1; }
    if (cp == 0x1D40) { *plain = 'T'; return 1; }
    if (cp == 0x207A) { *plain = '+'; return 1; }
    if (cp == 0x207B) { *plain = 0x2212; return 1; }
    return 0;
}

static int is_alnum(int cp) { return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z'); }

typedef struct {
    muon_canvas *c;      /* NULL: measure only */
    int x, y, rotate;    /* anchor; baseline offset applied by the caller */
    int base_u, base_v;  /* pen origin along / across the text, in pixels */
    muon_rgb col;
} pen_target;

static void draw_glyph(const pen_target *t, const muon_glyph *g, int u0, int v0)
{
    int i, j;
    for (j = 0; j < g->h; j++)
        for (i = 0; i < g->w; i++) {
            char ch = g->rows[j * g->w + i];
            int cov, u = u0 + g->xoff + i, v = v0 + g->yoff + j;
            if (ch == '.') continue;
            cov = ch <= '9' ? ch - '0' : ch - 'a' + 10;
            if (t->rotate) muon_canvas_blend(t->c, t->x + v, t->y - u, t->col, cov / 15.0);
            else muon_canvas_blend(t->c, t->x + u, t->y + v, t->col, cov / 15.0);
        }
}

/* Lays out s, drawing through t when t->c is set; returns the advance in
 * 1/16 pixel. */
static long layout(const char *s, int scale, const pen_target *t)
{
    const muon_font_size *fm = &muon_font_atlas[main_size(scale)], *fs = &muon_font_atlas[script_size(scale)];
    /* script baselines: up about a third of an em, down about a fifth */
    int sup_dv = -(fm->px * 3 + 4) / 8, sub_dv = (fm->px + 2) / 5;
    long pen = 0, script_start = -1, script_end = 0;
    int last_script = 0; /* script of the previous run: 1 sup, -1 sub, 0 none */
    while (*s) {
        int cp = utf8_next(&s), script = 0, plain, group = 0, single = 0, n, k;
        const char *run = NULL;
        if (cp == '\\' && *s) {
            cp = utf8_next(&s);
        } else if ((cp == '_' || cp == '^') && *s && *s != ' ') {
            script = cp == '^' ? 1 : -1;
            if (*s == '{') { group = 1; s++; }
            else if (!is_alnum((unsigned char)*s)) single = 1;
            run = s;
        } else if ((script = script_char(cp, &plain)) != 0) {
            cp = plain;
        }
        if (!script) {
            const muon_glyph *g = find_glyph(fm, cp);
            if (g && t && t->c) draw_glyph(t, g, (int)((pen + 8) >> 4), 0);
            if (g) pen += g->adv16;
            last_script = 0;
            continue;
        }
        /* a script run: stack on the previous script of the other kind */
        if (last_script == -script && script_start >= 0) {
            long other_end = script_end;
            pen = script_start;
            script_end = other_end;
        } else {
            script_start = pen;
            script_end = pen;
        }
        for (n = 0, k = 0; run ? *s : k == 0; k++) {
            int c2;
            const muon_glyph *g;
            if (run) {
                const char *save = s;
                c2 = utf8_next(&s);
                if (group && c2 == '}') break;
                if (group && c2 == '\\' && *s) c2 = utf8_next(&s);
                else if (!group && !single && !is_alnum(c2)) { s = save; break; }
            } else {
                c2 = cp; /* a Unicode script character */
            }
            g = find_glyph(fs, c2);
            if (g && t && t->c) draw_glyph(t, g, (int)((pen + 8) >> 4), script > 0 ? sup_dv : sub_dv);
            if (g) pen += g->adv16;
            n++;
            if (single) break;
        }
        /* consecutive script characters (²³, ₁₂) continue one run */
        if (pen < script_end) pen = script_end;
        script_end = pen;
        last_script = script;
    }
    return pen;
}

static int clamp_scale(int scale) { return scale < 1 ? 1 : scale > 6 ? 6 : scale; }

int muon_text_width(const char *s, int scale)
{
    return (int)((layout(s, clamp_scale(scale), NULL) + 8) >> 4);
}

int muon_text_height(int scale)
{
    const muon_font_size *f = &muon_font_atlas[main_size(clamp_scale(scale))];
    return f->cap + f->descent;
}

void muon_canvas_text(muon_canvas *c, int x, int y, const char *s, int scale,
                      muon_rgb col, int halign, int valign, int rotate)
{
    const muon_font_size *f;
    pen_target t;
    int len, du, dv;
    scale = clamp_scale(scale);
    f = &muon_font_atlas[main_size(scale)];
    len = muon_text_width(s, scale);
    /* offsets along the text (u) and across it (v, downwards for upright),
     * from the anchor to the pen's start on the baseline */
    du = halign < 0 ? 0 : halign == 0 ? -len / 2 : -len;
    dv = valign < 0 ? f->cap : valign == 0 ? f->cap / 2 : 0;
    t.c = c;
    t.rotate = rotate;
    t.col = col;
    if (rotate) { t.x = x + dv; t.y = y - du; }
    else { t.x = x + du; t.y = y + dv; }
    t.base_u = t.base_v = 0;
    layout(s, scale, &t);
}

int muon_text_escape(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    if (cap == 0) return 1;
    for (; *src; src++) {
        int esc = strchr("_^{}\\", *src) != NULL;
        if (n + (size_t)esc + 1 >= cap) { dst[n] = 0; return 1; }
        if (esc) dst[n++] = '\\';
        dst[n++] = *src;
    }
    dst[n] = 0;
    return 0;
}
