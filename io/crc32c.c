/* CRC-32C: a bit-at-a-time reference (the definition) and the byte-table
 * version used on real data (one lookup per byte instead of eight shifts);
 * tests/test_io.c checks they agree and the RFC 3720 check value. */
#include "io/crc32c.h"

#define CRC32C_POLY 0x82F63B78u /* 0x1EDC6F41 bit-reversed: the LSB-first form */

uint32_t muon_crc32_reflected(uint32_t poly, uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i;
    int k;
    crc = ~crc;
    for (i = 0; i < n; i++) {
        crc ^= b[i];
        for (k = 0; k < 8; k++) crc = (crc >> 1) ^ (poly & ((uint32_t)0 - (crc & 1u)));
    }
    return ~crc;
}

uint32_t muon_crc32c_update_ref(uint32_t crc, const void *p, size_t n)
{
    return muon_crc32_reflected(CRC32C_POLY, crc, p, n);
}

static uint32_t table[256];
static int table_ready;

static void make_table(void)
{
    uint32_t i, c;
    int k;
    for (i = 0; i < 256; i++) {
        c = i;
        for (k = 0; k < 8; k++) c = (c >> 1) ^ (CRC32C_POLY & ((uint32_t)0 - (c & 1u)));
        table[i] = c;
    }
    table_ready = 1;
}

uint32_t muon_crc32c_update(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i;
    /* filled on first use from the main thread (files are read and written
     * there); the values never change, so a repeated fill is harmless */
    if (!table_ready) make_table();
    crc = ~crc;
    for (i = 0; i < n; i++) crc = (crc >> 8) ^ table[(crc ^ b[i]) & 0xFFu];
    return ~crc;
}
