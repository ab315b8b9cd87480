#include "test.h"
void suite_safetensors(void) { skip("safetensors: soon"); }
