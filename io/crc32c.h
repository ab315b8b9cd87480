/* io/crc32c.h -- CRC-32C (Castagnoli), the checksum of tensor data that
 * muon records in a safetensors file's __metadata__ ("muon.crc32c").
 * Polynomial 0x1EDC6F41 (reflected 0x82F63B78), initial value and final xor
 * 0xFFFFFFFF: the CRC of iSCSI (RFC 3720) and ext4, chosen over zlib's CRC-32
 * for its better error detection at these lengths. Check value:
 * crc32c("123456789") = 0xE3069283 (RFC 3720 B.4). */
#ifndef MUON_IO_CRC32C_H
#define MUON_IO_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Running form: crc = muon_crc32c_update(0, a, n); crc = ...update(crc, b, m) */
uint32_t muon_crc32c_update(uint32_t crc, const void *p, size_t n);
/* Bit-at-a-time reference, the definition itself (tests compare the two). */
uint32_t muon_crc32c_update_ref(uint32_t crc, const void *p, size_t n);
/* The same bitwise definition for any reflected (LSB-first) polynomial, e.g.
 * 0xEDB88320 for zlib's CRC-32 (the conformance manifest's file checksums). */
uint32_t muon_crc32_reflected(uint32_t poly, uint32_t crc, const void *p, size_t n);

#endif
