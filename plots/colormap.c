/* The perceptual colour map used by every heatmap: viridis (van der Walt and
 * Smith, matplotlib 2.0), given by its colours at t = 0, 0.1, ..., 1 and
 * interpolated linearly in sRGB between them. Eleven anchors keep the
 * interpolated curve within a few units of the 256-entry original, and the
 * map stays monotone in lightness, so a value's order reads from its shade
 * (also in greyscale and for colour-blind readers). */
#include "plots/plots.h"
#include "metrics/metrics.h"

#include <math.h>

static const unsigned char viridis[11][3] = {
    { 0x44, 0x01, 0x54 }, { 0x48, 0x24, 0x75 }, { 0x41, 0x44, 0x87 },
    { 0x35, 0x5F, 0x8D }, { 0x2A, 0x78, 0x8E }, { 0x21, 0x91, 0x8C },
    { 0x22, 0xA8, 0x84 }, { 0x44, 0xBF, 0x70 }, { 0x7A, 0xD1, 0x51 },
    { 0xBD, 0xDF, 0x26 }, { 0xFD, 0xE7, 0x25 }
};

muon_rgb muon_colormap(double t)
{
    muon_rgb c;
    double u, f;
    int i, k;
    if (t != t) { c.r = c.g = c.b = 0xDD; return c; }
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    u = t * 10.0;
    i = (int)floor(u);
    if (i >= 10) i = 9;
    f = u - i;
    for (k = 0; k < 3; k++) {
        double v = viridis[i][k] + f * (viridis[i + 1][k] - viridis[i][k]);
        unsigned char b = (unsigned char)(v + 0.5);
        if (k == 0) c.r = b; else if (k == 1) c.g = b; else c.b = b;
    }
    return c;
}
