# Unix-domain sockets with real peers, in a temp dir, both directions:
# wire listening (`wire tcp -l -U`) with socat and node clients, and wire
# connecting (`wire tcp -U`) to a socat server. Bytes are exact both ways
# and the socket file is removed when wire's listener closes.
. "$(dirname "$0")/lib.sh"
sock="$TMP/wire.sock"

# -- wire listens, socat connects: bytes both ways. wire's stdin ends only
# once socat's bytes arrived.
(
  printf 'from wire'
  for i in $(seq 1 400); do
    grep -q 'from socat' "$TMP/l1.out" 2>/dev/null && break
    sleep 0.05
  done
) | "$WIRE" tcp -l -U "$sock" >"$TMP/l1.out" 2>"$TMP/l1.err" &
wire_pid=$!
PIDS+=("$wire_pid")
wait_listening "$TMP/l1.out" || fail "wire tcp -l -U did not listen"
expect_eq "listening line" "listening on tcp+unix://$sock" \
  "$(head -n 1 "$TMP/l1.out")"
[ -S "$sock" ] || fail "no socket file at $sock"
rc=0
printf 'from socat' | timeout 20 socat -t 5 - UNIX-CONNECT:"$sock" \
  >"$TMP/socat1.out" || rc=$?
expect_eq "socat client exit status" 0 "$rc"
expect_eq "socat client got" "from wire" "$(cat "$TMP/socat1.out")"
wait_exit "$wire_pid" "wire tcp -l -U"
cat "$TMP/l1.err" >&2
expect_eq "wire listener exit status" 0 "$RC"
expect_eq "wire listener got" "from socat" "$(tail -n +2 "$TMP/l1.out")"
[ ! -e "$sock" ] || fail "socket file left behind at $sock"
echo "ok: socket file removed"

# -- wire listens, node connects: 256 KiB up, a reply down.
head -c 262144 /dev/urandom >"$TMP/blob"
printf 'ok from wire' | "$WIRE" tcp -l -U "$sock" \
  >"$TMP/l2.out" 2>"$TMP/l2.err" &
wire_pid=$!
PIDS+=("$wire_pid")
wait_listening "$TMP/l2.out" || fail "wire tcp -l -U did not listen"
timeout 20 node - "$sock" "$TMP/blob" >"$TMP/node.out" <<'JS' || fail "node"
const net = require('net');
const fs = require('fs');
const c = net.connect({ path: process.argv[2], allowHalfOpen: true });
let got = '';
c.on('data', (d) => { got += d; });
c.on('connect', () => c.end(fs.readFileSync(process.argv[3])));
c.on('end', () => c.end());
c.on('close', (hadError) => console.log(got + ' ' + hadError));
JS
expect_eq "node client got" "ok from wire false" "$(cat "$TMP/node.out")"
wait_exit "$wire_pid" "wire tcp -l -U"
expect_eq "wire listener exit status" 0 "$RC"
tail -c +$(($(head -n 1 "$TMP/l2.out" | wc -c) + 1)) "$TMP/l2.out" |
  cmp - "$TMP/blob" || fail "wire listener: bytes from node differ"
echo "ok: 256 KiB from node arrived intact"

# -- socat listens, wire connects: bytes both ways.
# (socat splits SYSTEM: at quotes, so the reply comes from a file.)
srv_sock="$TMP/socat.sock"
printf 'from socat' >"$TMP/socat2-send"
socat -t 5 UNIX-LISTEN:"$srv_sock" \
  SYSTEM:"cat $TMP/socat2-send; cat >$TMP/socat2-got" 2>"$TMP/socat2.err" &
socat_pid=$!
PIDS+=("$socat_pid")
for i in $(seq 1 200); do
  [ -S "$srv_sock" ] && break
  sleep 0.05
done
[ -S "$srv_sock" ] || fail "socat did not create $srv_sock"
rc=0
printf 'from wire' | timeout 20 "$WIRE" tcp -U "$srv_sock" \
  >"$TMP/c.out" 2>"$TMP/c.err" || rc=$?
cat "$TMP/c.err" >&2
expect_eq "wire client exit status" 0 "$rc"
expect_eq "wire client got" "from socat" "$(cat "$TMP/c.out")"
wait_exit "$socat_pid" "socat server"
expect_eq "socat server got" "from wire" "$(cat "$TMP/socat2-got")"
