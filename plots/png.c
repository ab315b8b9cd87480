/* PNG output through stb_image_write (Debian libstb-dev, whose libstb
 * carries the implementation), written atomically: a reader (or a crash)
 * never sees a half-written picture. */
#include "plots/plots.h"
#include "metrics/metrics.h"

#include <stdio.h>
#include <string.h>
#include <stb_image_write.h>

int muon_png_write(const char *path, const muon_canvas *c)
{
    char tmp[4096];
    if (!c || !c->px || c->w < 1 || c->h < 1)
        return muon_error(MUON_ERR_ARG, "%s: no image to write", path);
    if (strlen(path) + 5 > sizeof tmp)
        return muon_error(MUON_ERR_ARG, "%s: path too long", path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (!stbi_write_png(tmp, c->w, c->h, 3, c->px, c->w * 3)) {
        remove(tmp);
        return muon_error(MUON_ERR_IO, "%s: cannot write PNG", tmp);
    }
    if (rename(tmp, path) != 0) {
        remove(tmp);
        return muon_error(MUON_ERR_IO, "%s: cannot rename %s into place", path, tmp);
    }
    return MUON_OK;
}
