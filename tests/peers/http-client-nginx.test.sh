# The HTTP client (tests/tools/http_client_probe) against nginx, started
# here with a private config on a free loopback port; nginx logs each
# request with its connection number, so the test counts connections:
# 20 requests at once through the global agent use at most 5; 20 one after
# another use 1; without an agent every request has its own; a server's
# Keep-Alive: timeout=2 hint makes the agent drop the idle socket after a
# second, so a request 1.5 s later goes out on a new connection, without
# error; HEAD has no body.
. "$(dirname "$0")/lib.sh"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/setup)"
PROBE="$WIRE_BUILD/tools/http_client_probe"

# start_nginx KEEPALIVE: writes the config and starts nginx on a free
# port (picked by binding port 0; nginx cannot listen on port 0 itself),
# retrying if another program takes the port first. Sets PORT.
start_nginx() {
  local try
  for try in 1 2 3 4 5; do
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$TMP/ngx"
    cat > "$TMP/ngx/conf" <<EOF
worker_processes 1;
pid $TMP/ngx/nginx.pid;
error_log $TMP/ngx/error.log;
events { worker_connections 256; }
http {
  log_format conn '\$connection \$connection_requests \$request_method \$uri';
  access_log $TMP/ngx/access.log conn;
  client_body_temp_path $TMP/ngx/body;
  proxy_temp_path $TMP/ngx/proxy;
  fastcgi_temp_path $TMP/ngx/fcgi;
  uwsgi_temp_path $TMP/ngx/uwsgi;
  scgi_temp_path $TMP/ngx/scgi;
  keepalive_requests 10000;
  keepalive_timeout $1;
  server {
    listen 127.0.0.1:$PORT;
    location / { return 200 "hello \$uri\n"; }
  }
}
EOF
    nginx -c "$TMP/ngx/conf" -p "$TMP/ngx" -g 'daemon off;' \
      >"$TMP/nginx.out" 2>"$TMP/nginx.err" &
    NGINX_PID=$!
    PIDS+=($NGINX_PID)
    local i
    for i in $(seq 1 100); do
      if (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        return 0
      fi
      kill -0 "$NGINX_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  done
  cat "$TMP/ngx/error.log" "$TMP/nginx.err" >&2 || true
  fail "nginx did not start"
}

stop_nginx() {
  kill "$NGINX_PID" 2>/dev/null || true
  wait "$NGINX_PID" 2>/dev/null || true
}

# conns URI: distinct connections that served requests for URI.
conns() {
  awk -v u="$1" '$4 == u { print $1 }' "$TMP/ngx/access.log" | sort -u | wc -l
}
reqs() {
  awk -v u="$1" '$4 == u' "$TMP/ngx/access.log" | wc -l
}

start_nginx 30
# The probe's own check: a plain connect made by start_nginx is logged by
# nothing (no request), so the counts below are the probe's alone.

"$PROBE" -n 20 -c 20 -p /many "$PORT" > "$TMP/many.out" || fail "20 at once: $(cat "$TMP/many.out")"
expect_eq "20 at once: all answered" 20 "$(grep -c 'status=200 body=hello /many|' "$TMP/many.out")"
expect_eq "20 at once: first turn" "stats sockets=5 free=0 requests=15 created=5 reused=0" \
  "$(grep '^stats' "$TMP/many.out")"
expect_eq "20 at once: nginx saw 20 requests" 20 "$(reqs /many)"
n=$(conns /many)
[ "$n" -le 5 ] || fail "20 at once used $n connections (max 5)"
grep -q '^final sockets=0 free=5 requests=0 created=5 reused=15' "$TMP/many.out" ||
  fail "final counts: $(grep '^final' "$TMP/many.out")"
echo "ok: 20 at once on $n connections"

"$PROBE" -n 20 -c 1 -p /seq "$PORT" > "$TMP/seq.out" || fail "20 in a row: $(cat "$TMP/seq.out")"
expect_eq "20 in a row: all answered" 20 "$(grep -c 'status=200' "$TMP/seq.out")"
expect_eq "20 in a row: one connection" 1 "$(conns /seq)"
expect_eq "20 in a row: counts" "final sockets=0 free=1 requests=0 created=1 reused=19" \
  "$(grep '^final' "$TMP/seq.out")"

"$PROBE" -0 -n 5 -c 1 -p /noagent "$PORT" > "$TMP/noagent.out" || fail "no agent"
expect_eq "no agent: all answered" 5 "$(grep -c 'status=200' "$TMP/noagent.out")"
expect_eq "no agent: a connection per request" 5 "$(conns /noagent)"

"$PROBE" -X HEAD -n 3 -p /head "$PORT" > "$TMP/head.out" || fail "HEAD: $(cat "$TMP/head.out")"
expect_eq "HEAD: no body, one connection" "3 1" \
  "$(grep -c 'status=200 body=$' "$TMP/head.out") $(conns /head)"
"$PROBE" -A 2 -n 6 -c 6 -p /custom "$PORT" > "$TMP/custom.out" || fail "custom agent"
expect_eq "custom agent of 2: first turn" "stats sockets=2 free=0 requests=4 created=2 reused=0" \
  "$(grep '^stats' "$TMP/custom.out")"
n=$(conns /custom)
[ "$n" -le 2 ] || fail "a custom agent of 2 used $n connections"
stop_nginx

# Keep-Alive: timeout=2 in the header (nginx itself would wait 30 s): the
# agent keeps the idle socket one second, so a request after 1.5 s goes
# out on a new connection and succeeds.
start_nginx "30 2"
"$PROBE" -n 2 -c 1 -s 1500 -p /hint "$PORT" > "$TMP/hint.out" || fail "hint: $(cat "$TMP/hint.out")"
expect_eq "hint: both answered" 2 "$(grep -c 'status=200' "$TMP/hint.out")"
expect_eq "hint: a new connection after the hint ran out" 2 "$(conns /hint)"
# Within the hint the socket is reused.
"$PROBE" -n 2 -c 1 -s 200 -p /within "$PORT" > "$TMP/within.out" || fail "within"
expect_eq "hint: reused within a second" 1 "$(conns /within)"
stop_nginx
