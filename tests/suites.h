/* Every test suite, in run order; each is `void suite_NAME(void)` in
 * tests/test_NAME.c. */
SUITE(core)
SUITE(safetensors)
SUITE(gemm)
SUITE(svd)
SUITE(orth)
SUITE(model)
SUITE(optim)
SUITE(train)
SUITE(metrics)
SUITE(plots)
SUITE(cli)
SUITE(fuzz)
