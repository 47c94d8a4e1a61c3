/*
 * sm_crc32c: CRC-32C (Castagnoli), the checksum of Kafka record batches (v2).
 *
 * Uses AVX-512 VPCLMULQDQ folding, else the SSE4.2 crc32 instruction (three interleaved
 * streams combined with PCLMULQDQ), else a slicing table, whichever the CPU has; all give the
 * same result. Chainable: sm_crc32c(sm_crc32c(0, a, n), b, m) equals the CRC of a||b.
 * sm_crc32c(0, "123456789", 9) == 0xe3069283.
 */
#ifndef SM_CRC32C_H
#define SM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t sm_crc32c(uint32_t crc, const void *buf, size_t len);

/* The implementations, exposed for tests and benchmarks; sm_crc32c calls the best one.
 * sm_crc32c_hw must only be called when sm_crc32c_have_hw() returns 1 (SSE4.2 and
 * PCLMULQDQ), sm_crc32c_hw512 when sm_crc32c_have_hw512() does (those and AVX-512F with
 * VPCLMULQDQ). On other architectures both have_ functions return 0. */
uint32_t sm_crc32c_sw(uint32_t crc, const void *buf, size_t len);
uint32_t sm_crc32c_hw(uint32_t crc, const void *buf, size_t len);
uint32_t sm_crc32c_hw512(uint32_t crc, const void *buf, size_t len);
int sm_crc32c_have_hw(void);
int sm_crc32c_have_hw512(void);

#endif
