/* libFuzzer's entry point for one harness, chosen at compile time
 * (-DFUZZ_TARGET=fuzz_safetensors); built by `make fuzz` with clang
 * -fsanitize=fuzzer,address,undefined, never part of the plain build. */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return FUZZ_TARGET(data, size);
}
