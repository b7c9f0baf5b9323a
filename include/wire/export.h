/* Symbol export for the public API. Every public function is marked
 * WIRE_EXTERN; the library is built with -fvisibility=hidden so that
 * nothing else is visible from the shared object. */
#ifndef WIRE_EXPORT_H
#define WIRE_EXPORT_H

#if defined(WIRE_BUILDING) && defined(__GNUC__)
#define WIRE_EXTERN __attribute__((visibility("default")))
#else
#define WIRE_EXTERN
#endif

#define WIRE_VERSION_MAJOR 0
#define WIRE_VERSION_MINOR 1
#define WIRE_VERSION_PATCH 0
#define WIRE_VERSION_STRING "0.1.0"

#endif
