/* CRC-32 (the IEEE 802.3 polynomial 0xEDB88320, reflected, as zlib.crc32 and
 * PNG use) so the manifest can pin every suite file: a flipped byte in an
 * expected value would otherwise just move a tolerance check. The bitwise
 * definition shared with CRC-32C (io/crc32c.c), no table: the suite is a few
 * MB and this runs once per file. */
#include "conformance/conformance.h"
#include "io/crc32c.h"

uint32_t conf_crc32(uint32_t crc, const void *buf, size_t n)
{
    return muon_crc32_reflected(0xEDB88320u, crc, buf, n);
}
