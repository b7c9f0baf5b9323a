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

/* Codes outside the list are formatted here, per thread; the string stays
 * valid until the next such call on the same thread. */
static _Thread_local char unknown_msg[80];
static _Thread_local char unknown_name[40];

const char *wire_strerror(int err)
{
  switch (err) {
#define WIRE_ERRNO_MSG_(name, value, msg)                                     \
  case value:                                                                 \
    return msg;
    WIRE_ERRNO_MAP(WIRE_ERRNO_MSG_)
#undef WIRE_ERRNO_MSG_
  default:
    /* Not uv_strerror: for a code it does not know it mallocs the string
     * and never frees it. */
    uv_strerror_r(err, unknown_msg, sizeof(unknown_msg));
    return unknown_msg;
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
    uv_err_name_r(err, unknown_name, sizeof(unknown_name));
    return unknown_name;
  }
}
