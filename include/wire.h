/* wire: Node's networking stack (net, dgram, http, https, tls, WebSocket)
 * as a C library on libuv and OpenSSL. Include only this header. */
#ifndef WIRE_H
#define WIRE_H

#include "wire/export.h"
#include "wire/errno.h"
#include "wire/buf.h"
#include "wire/loop.h"
#include "wire/stream.h"
#include "wire/net.h"
#include "wire/http.h"
#include "wire/http_client.h"
#include "wire/dgram.h"
#include "wire/tls.h"
#include "wire/https.h"
#include "wire/ws.h"

#endif
