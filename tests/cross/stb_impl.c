/* stb_image_write's (and, for the tests' PNG decoding, stb_image's)
 * implementation, compiled from Debian's headers for targets where its
 * libstb (x86-64 only) cannot be linked: cross builds (`make test-cross`,
 * STB_IMPL=1). Warnings of the third-party code are not ours to fix, so
 * they are silenced for this file only. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#endif
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
