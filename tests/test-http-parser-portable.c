/* The parser tests again, with the parser compiled without its SSE2
 * scanners: the 64-bit word and byte loops that other CPUs use. The
 * parser is built into this executable (so the library's copy is not
 * linked), then the whole suite of test-http-parser.c runs on it. */
#define WIRE_HTTP_PARSER_NO_SIMD 1
#include "http/parser.c"

#include "test-http-parser.c"
