/* Placeholder: the metrics tests land with their issue. */
#include "test.h"

void suite_metrics(void) { skip("metrics: not written yet"); }
