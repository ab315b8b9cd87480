/* CRC-32 (the IEEE 802.3 polynomial 0xEDB88320, reflected, as zlib.crc32 and
 * PNG use) so the manifest can pin every suite file: a flipped byte in an
 * expected value would otherwise just move a tolerance check. Bitwise, no
 * table: the suite is a few MB and this runs once per file. */
#include "conformance/conformance.h"

uint32_t conf_crc32(uint32_t crc, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    size_t i;
    int k;
    crc = ~crc;
    for (i = 0; i < n; i++) {
        crc ^= p[i];
        for (k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}
