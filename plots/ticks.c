/* Tick values and tick labels.
 *
 * Linear ticks follow Heckbert's "loose labels" (Graphics Gems, 1990,
 * "Nice numbers for graph labels"): the axis is widened to whole multiples of
 * a step from {1, 2, 5} x 10^k, so the ends of the axis carry labels. */
#include "plots/plots.h"
#include "metrics/metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Heckbert's nicenum: a number from {1, 2, 5, 10} x 10^k near x, rounded to
 * the nearest (round != 0) or the next larger (round == 0). */
static double nicenum(double x, int round)
{
    double e = floor(log10(x)), f = x / pow(10.0, e), nf;
    if (round) nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nf * pow(10.0, e);
}

int muon_nice_ticks(double lo, double hi, int target, double *ticks, int cap,
                    double *step)
{
    double range, d, gmin, gmax, t;
    int n = 0, i, count;
    if (step) *step = 0;
    if (!isfinite(lo) || !isfinite(hi) || cap < 1) return 0;
    if (hi < lo) { t = lo; lo = hi; hi = t; }
    if (target < 2) target = 2;
    if (hi - lo <= 1e-12 * (fabs(lo) + fabs(hi)) || hi == lo) {
        /* a single value: a unit-sized window around it */
        double w = lo != 0 ? fabs(lo) * 0.1 : 1.0;
        lo -= w;
        hi += w;
    }
    range = nicenum(hi - lo, 0);
    d = nicenum(range / (target - 1), 1);
    gmin = floor(lo / d) * d;
    gmax = ceil(hi / d) * d;
    count = (int)floor((gmax - gmin) / d + 0.5) + 1;
    for (i = 0; i < count && n < cap; i++) {
        t = gmin + i * d;
        if (fabs(t) < d * 1e-9) t = 0; /* no "-0" or 1e-17 at the origin */
        ticks[n++] = t;
    }
    if (step) *step = d;
    return n;
}

int muon_log_ticks(double lo, double hi, double *ticks, int cap)
{
    int e0, e1, e, k, n = 0, every;
    if (!(lo > 0) || !isfinite(lo) || !isfinite(hi) || cap < 1) return 0;
    if (hi < lo) { double t = lo; lo = hi; hi = t; }
    e0 = (int)floor(log10(lo) + 1e-9);
    e1 = (int)ceil(log10(hi) - 1e-9);
    if (e1 <= e0) e1 = e0 + 1;
    every = (e1 - e0 + 7) / 8; /* at most about 8 decade labels */
    if (e1 - e0 < 2) {
        for (e = e0; e <= e1 && n < cap; e++) {
            double p = pow(10.0, e);
            ticks[n++] = p;
            if (e == e1) break;
            for (k = 0; k < 2 && n < cap; k++) ticks[n++] = (k ? 5 : 2) * p;
        }
        return n;
    }
    /* keep the axis ends on labelled decades */
    e0 = (int)floor((double)e0 / every) * every;
    e1 = (int)ceil((double)e1 / every) * every;
    for (e = e0; e <= e1 && n < cap; e += every) ticks[n++] = pow(10.0, e);
    return n;
}

void muon_format_tick(double v, double step, char *buf, size_t n)
{
    double a = fabs(v);
    int dec;
    if (v == 0) { snprintf(buf, n, "0"); return; }
    if (a >= 1e6 || a < 1e-4 || (step > 0 && step < 1e-4)) {
        /* 1e-05, 2.5e+06 read badly; print mantissa and a short exponent */
        int e = (int)floor(log10(a) + 1e-9);
        double m = v / pow(10.0, e);
        if (fabs(m - floor(m + 0.5)) < 1e-6) snprintf(buf, n, "%.0fe%d", m, e);
        else snprintf(buf, n, "%.1fe%d", m, e);
        return;
    }
    dec = 0;
    if (step > 0) {
        dec = (int)ceil(-log10(step) - 1e-9);
        /* a step like 0.25 or 2.5 needs one more digit than its magnitude */
        if (fabs(step * pow(10.0, dec) - floor(step * pow(10.0, dec) + 0.5)) > 1e-6) dec++;
    } else {
        dec = a >= 100 ? 0 : a >= 1 ? 2 : 3;
    }
    if (dec < 0) dec = 0;
    if (dec > 8) dec = 8;
    snprintf(buf, n, "%.*f", dec, v);
}

void muon_format_si(double v, char *buf, size_t n)
{
    const char *suf[] = { "", "k", "M", "G", "T", "P" };
    double a = fabs(v);
    int i = 0;
    while (a >= 1000 && i < 5) { a /= 1000; v /= 1000; i++; }
    if (i == 0 || fabs(v - floor(v + 0.5)) < 1e-9) snprintf(buf, n, "%.0f%s", v, suf[i]);
    else if (a < 10) {
        snprintf(buf, n, "%.2f", v);
        /* trim trailing zeros: 1.50 -> 1.5 */
        {
            size_t l = strlen(buf);
            while (l > 0 && buf[l - 1] == '0') buf[--l] = 0;
            if (l > 0 && buf[l - 1] == '.') buf[--l] = 0;
            snprintf(buf + l, n > l ? n - l : 0, "%s", suf[i]);
        }
    } else snprintf(buf, n, "%.1f%s", v, suf[i]);
}
