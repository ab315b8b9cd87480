/* Placeholder: the orth tests land with their issue. */
#include "test.h"

void suite_orth(void) { skip("orth: not written yet"); }
