/* The UTF-8 validator tests again, with the validator compiled without its
 * SSE2 scanner: the 64-bit word and byte loops that other CPUs use. The
 * validator is built into this executable (so the library's copy is not
 * linked), then the whole suite of test-ws-utf8.c runs on it. */
#define WIRE_WS_UTF8_NO_SIMD 1
#include "ws/utf8.c"

#include "test-ws-utf8.c"
