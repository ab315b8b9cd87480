#include "test.h"
void suite_core(void) { skip("core: soon"); }
