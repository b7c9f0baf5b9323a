/* wire_timer_t: Node's setTimeout/setInterval on a uv_timer_t. The object
 * holds one ref for its handle; close drops it from the uv close callback,
 * which libuv runs on a later turn. */
#include <assert.h>

#include "internal.h"

struct wire_timer_s {
  wire__obj_t obj;
  uv_timer_t h;
  wire_timer_cb cb;
  wire_timer_close_cb close_cb;
  void *data;
  int closing;
};

static void finalize(wire__obj_t *o)
{
  wire_timer_t *t = (wire_timer_t *)o;
  wire__poison(t, sizeof(*t));
  wire__free(t);
}

int wire_timer_create(wire_loop_t *loop, wire_timer_t **out)
{
  wire_timer_t *t = wire__calloc(1, sizeof(*t));
  if (t == NULL)
    return WIRE_ENOMEM;
  uv_timer_init(wire__uv(loop), &t->h);
  t->h.data = t;
  wire__obj_init(&t->obj, loop, finalize);
  *out = t;
  return 0;
}

static void on_timer(uv_timer_t *h)
{
  wire_timer_t *t = h->data;
  if (t->cb == NULL || t->closing)
    return;
  wire__obj_ref(&t->obj);
  t->cb(t, t->data);
  wire__obj_unref(&t->obj);
}

int wire_timer_start(wire_timer_t *t, uint64_t timeout_ms, uint64_t repeat_ms,
                     wire_timer_cb cb)
{
  if (t->closing)
    return WIRE_ECLOSED;
  t->cb = cb;
  return uv_timer_start(&t->h, on_timer, timeout_ms, repeat_ms);
}

void wire_timer_stop(wire_timer_t *t)
{
  uv_timer_stop(&t->h);
}

void wire_timer_ref(wire_timer_t *t)
{
  uv_ref((uv_handle_t *)&t->h);
}

void wire_timer_unref(wire_timer_t *t)
{
  uv_unref((uv_handle_t *)&t->h);
}

void wire_timer_set_data(wire_timer_t *t, void *data)
{
  t->data = data;
}

void *wire_timer_data(const wire_timer_t *t)
{
  return t->data;
}

static void on_close(uv_handle_t *h)
{
  wire_timer_t *t = h->data;
  if (t->close_cb != NULL)
    t->close_cb(t, t->data);
  wire__obj_unref(&t->obj);
}

void wire_timer_close(wire_timer_t *t, wire_timer_close_cb cb)
{
  assert(!t->closing && "wire_timer_close called twice");
  t->closing = 1;
  t->close_cb = cb;
  uv_close((uv_handle_t *)&t->h, on_close);
}
