/* Placeholder: the train tests land with their issue. */
#include "test.h"

void suite_train(void) { skip("train: not written yet"); }
