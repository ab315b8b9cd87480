/* Placeholder: the svd tests land with their issue. */
#include "test.h"

void suite_svd(void) { skip("svd: not written yet"); }
