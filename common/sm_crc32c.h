/*
 * sm_crc32c: CRC-32C (Castagnoli), the checksum of Kafka record batches (v2).
 *
 * Uses the SSE4.2 crc32 instruction when the CPU has it and a slicing table otherwise; both
 * give the same result. Chainable: sm_crc32c(sm_crc32c(0, a, n), b, m) equals the CRC of a||b.
 * sm_crc32c(0, "123456789", 9) == 0xe3069283.
 */
#ifndef SM_CRC32C_H
#define SM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t sm_crc32c(uint32_t crc, const void *buf, size_t len);

/* The two implementations, exposed for tests and benchmarks. sm_crc32c_hw must only be called
 * when sm_crc32c_have_hw() returns 1. */
uint32_t sm_crc32c_sw(uint32_t crc, const void *buf, size_t len);
uint32_t sm_crc32c_hw(uint32_t crc, const void *buf, size_t len);
int sm_crc32c_have_hw(void);

#endif
