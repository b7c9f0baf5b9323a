/* Error names and messages, generated from the one list in
 * include/wire/errno.h. The static asserts prove that the system codes in
 * that list have the values libuv uses, so libuv's codes pass through. */
#include <uv.h>

#include "internal.h"

_Static_assert((int)WIRE_ECONNRESET == (int)UV_ECONNRESET, "errno values match libuv");
_Static_assert((int)WIRE_EOF == (int)UV_EOF, "EOF matches libuv");
_Static_assert((int)WIRE_EAI_NONAME == (int)UV_EAI_NONAME, "EAI values match libuv");
_Static_assert((int)WIRE_EAI_AGAIN == (int)UV_EAI_AGAIN, "EAI values match libuv");
_Static_assert((int)WIRE_EAI_SOCKTYPE == (int)UV_EAI_SOCKTYPE, "EAI values match");
_Static_assert((int)WIRE_ECANCELED == (int)UV_ECANCELED, "errno values match libuv");

const char *wire_strerror(int err)
{
  switch (err) {
#define WIRE_ERRNO_MSG_(name, value, msg)                                     \
  case value:                                                                 \
    return msg;
    WIRE_ERRNO_MAP(WIRE_ERRNO_MSG_)
#undef WIRE_ERRNO_MSG_
  default:
    return uv_strerror(err);
  }
}

const char *wire_err_name(int err)
{
  switch (err) {
#define WIRE_ERRNO_NAME_(name, value, msg)                                    \
  case value:                                                                 \
    return #name;
    WIRE_ERRNO_MAP(WIRE_ERRNO_NAME_)
#undef WIRE_ERRNO_NAME_
  default:
    return uv_err_name(err);
  }
}
