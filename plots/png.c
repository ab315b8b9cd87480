/* PNG output through stb_image_write (Debian libstb-dev, whose libstb
 * carries the implementation). stb's own file writer ignores fwrite and
 * fclose errors (a full disk gave empty or truncated PNGs renamed into
 * place), so the image is encoded in memory by stbi_write_png_to_func (the
 * public face of stbi_write_png_to_mem: one call of the callback with the
 * whole encoded file) and written by the checked atomic writer.
 *
 * Every row is written with PNG filter 0 (None) instead of stb's default of
 * trying all five filters per row and keeping the one its heuristic likes:
 * the plots are flat colour areas, lines and text, where unfiltered rows give
 * the deflate compressor long exact repeats, so the files come out about as
 * small (most a little smaller) for much less compression work. Pixels are
 * the same either way (the tests decode them). */
#include "plots/plots.h"
#include "metrics/metrics.h"
#include "io/atomic_file.h"

#include <stdio.h>
#include <string.h>
#include <stb_image_write.h>

static void png_sink(void *ctx, void *data, int size)
{
    if (size > 0) muon_afile_write(ctx, data, (size_t)size);
}

int muon_png_write(const char *path, const muon_canvas *c)
{
    muon_afile a;
    int st;
    if (!c || !c->px || c->w < 1 || c->h < 1)
        return muon_error(MUON_ERR_ARG, "%s: no image to write", path);
    if (c->w > (1 << 14) || c->h > (1 << 14))
        return muon_error(MUON_ERR_ARG, "%s: image %dx%d too large", path, c->w, c->h);
    if ((st = muon_afile_open(&a, path))) return st;
    stbi_write_force_png_filter = 0;
    if (!stbi_write_png_to_func(png_sink, &a, c->w, c->h, 3, c->px, c->w * 3)) {
        muon_afile_abort(&a);
        return muon_error(MUON_ERR_NOMEM, "%s: cannot encode the PNG (out of memory)", path);
    }
    return muon_afile_commit(&a);
}
