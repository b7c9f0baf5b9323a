# `wire tcp` against socat, ncat and node in both modes: the bytes each
# way are exact (including 1 MiB of binary data from a regular file on
# stdin), both sides exit 0, and errors exit 1 with a message.
. "$(dirname "$0")/lib.sh"
head -c 1048576 /dev/urandom >"$TMP/blob"

# -- client mode against a socat server that sends a file and prints what
# it gets. socat reports its port for port 0 on stderr with -d -d.
socat -d -d -t 5 TCP-LISTEN:0,bind=127.0.0.1 \
  SYSTEM:"cat $TMP/blob; cat >$TMP/socat-got" \
  >/dev/null 2>"$TMP/socat.err" &
PIDS+=($!)
socat_pid=$!
wait_listening "$TMP/socat.err" || fail "socat did not listen"
rc=0
printf 'to socat' | timeout 20 "$WIRE" tcp 127.0.0.1 "$PORT" \
  >"$TMP/c1.out" 2>"$TMP/c1.err" || rc=$?
cat "$TMP/c1.err" >&2
expect_eq "client vs socat: exit status" 0 "$rc"
cmp "$TMP/blob" "$TMP/c1.out" || fail "client vs socat: stdout differs from what socat sent"
echo "ok: client vs socat: 1 MiB from socat arrived intact"
wait_exit "$socat_pid" socat
expect_eq "client vs socat: socat got" "to socat" "$(cat "$TMP/socat-got")"

# -- client mode against a node server, with a regular file on stdin (read
# in chunks, paced by drain) and a pipe on stdout; node echoes and ends
# when wire ends.
cat >"$TMP/echo.js" <<'JS'
const net = require('net');
const srv = net.createServer((c) => {
  c.pipe(c);
  c.on('close', () => srv.close());
});
srv.listen(0, '127.0.0.1', () => {
  console.log('listening on tcp://127.0.0.1:' + srv.address().port);
});
setTimeout(() => process.exit(3), 20000).unref();
JS
start echo node "$TMP/echo.js"
# stdout is a pipe here (into cat), a file elsewhere.
rc=0
timeout 20 "$WIRE" tcp 127.0.0.1 "$PORT" <"$TMP/blob" 2>"$TMP/c2.err" |
  cat >"$TMP/c2.out" || rc=$?
cat "$TMP/c2.err" >&2
expect_eq "client vs node echo, file stdin: exit status" 0 "$rc"
cmp "$TMP/blob" "$TMP/c2.out" || fail "client vs node echo: echo differs"
echo "ok: client vs node echo: 1 MiB file echoed intact"

# -- listen mode with a socat client; stdin from /dev/null (a device, read
# with read(): EOF at once).
start l1 "$WIRE" tcp -l 127.0.0.1 0 </dev/null
wire_pid=${PIDS[-1]}
rc=0
timeout 20 socat -t 5 -u "$TMP/blob" TCP:127.0.0.1:"$PORT" || rc=$?
expect_eq "listen vs socat: socat exit status" 0 "$rc"
wait_exit "$wire_pid" "wire tcp -l"
expect_eq "listen vs socat: wire exit status" 0 "$RC"
expect_eq "listen vs socat: the listening line comes first" \
  "listening on tcp://127.0.0.1:$PORT" "$(head -n 1 "$TMP/l1.out")"
tail -n +2 "$TMP/l1.out" | cmp - "$TMP/blob" ||
  fail "listen vs socat: stdout differs from what socat sent"
echo "ok: listen vs socat: 1 MiB arrived intact after the listening line"

# -- listen mode with an ncat client, bytes both ways. wire's stdin ends
# only after ncat's bytes arrived: ncat quits on the peer's FIN.
(
  printf 'from wire'
  for i in $(seq 1 400); do
    grep -q 'from ncat' "$TMP/l2.out" 2>/dev/null && break
    sleep 0.05
  done
) |
  "$WIRE" tcp -l 127.0.0.1 0 >"$TMP/l2.out" 2>"$TMP/l2.err" &
wire_pid=$!
PIDS+=("$wire_pid")
wait_listening "$TMP/l2.out" || fail "wire tcp -l did not listen"
rc=0
printf 'from ncat' | timeout 20 ncat 127.0.0.1 "$PORT" >"$TMP/ncat.out" ||
  rc=$?
expect_eq "listen vs ncat: ncat exit status" 0 "$rc"
expect_eq "listen vs ncat: ncat got" "from wire" "$(cat "$TMP/ncat.out")"
wait_exit "$wire_pid" "wire tcp -l"
cat "$TMP/l2.err" >&2
expect_eq "listen vs ncat: wire exit status" 0 "$RC"
expect_eq "listen vs ncat: wire got" \
  "$(printf 'listening on tcp://127.0.0.1:%s\nfrom ncat' "$PORT")" \
  "$(cat "$TMP/l2.out")"

# -- listen mode with a node client: an IPv6 listener, bytes both ways.
# (A background command's stdin is /dev/null unless redirected on the
# command itself, hence the pipe rather than start.)
printf 'from wire' | "$WIRE" tcp -l ::1 0 >"$TMP/l3.out" 2>"$TMP/l3.err" &
wire_pid=$!
PIDS+=("$wire_pid")
wait_listening "$TMP/l3.out" || fail "wire tcp -l ::1 did not listen"
expect_eq "listen on ::1: the listening line has brackets" \
  "listening on tcp://[::1]:$PORT" "$(head -n 1 "$TMP/l3.out")"
timeout 20 node - "$PORT" >"$TMP/node.out" <<'JS' || fail "node client"
const net = require('net');
const c = net.connect(Number(process.argv[2]), '::1');
let got = '';
c.on('data', (d) => { got += d; });
c.on('connect', () => c.end('from node'));
c.on('close', (hadError) => console.log(got + ' ' + hadError));
JS
expect_eq "listen vs node: node got" "from wire false" "$(cat "$TMP/node.out")"
wait_exit "$wire_pid" "wire tcp -l ::1"
expect_eq "listen vs node: wire exit status" 0 "$RC"
expect_eq "listen vs node: wire got" "from node" "$(tail -n +2 "$TMP/l3.out")"

# -- errors: a refused connect and a port in use exit 1 with a message.
rc=0
"$WIRE" tcp 127.0.0.1 "$PORT" </dev/null 2>"$TMP/e1.err" || rc=$?
expect_eq "refused: exit status" 1 "$rc"
expect_eq "refused: message" "wire tcp: connect: connection refused" \
  "$(cat "$TMP/e1.err")"
start hold node "$TMP/echo.js"
rc=0
"$WIRE" tcp -l 127.0.0.1 "$PORT" </dev/null >/dev/null 2>"$TMP/e2.err" ||
  rc=$?
expect_eq "in use: exit status" 1 "$rc"
expect_eq "in use: message" "wire tcp: listen: address already in use" \
  "$(cat "$TMP/e2.err")"
rc=0
"$WIRE" tcp 127.0.0.1 >/dev/null 2>&1 || rc=$?
expect_eq "usage error: exit status" 2 "$rc"
