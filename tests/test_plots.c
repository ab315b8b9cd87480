/* Placeholder: the plots tests land with their issue. */
#include "test.h"

void suite_plots(void) { skip("plots: not written yet"); }
