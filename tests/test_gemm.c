/* Placeholder: the gemm tests land with their issue. */
#include "test.h"

void suite_gemm(void) { skip("gemm: not written yet"); }
