# Backpressure through wire_pipe: 256 MiB from a socat source, relayed by
# tests/tools/pipe_relay to a node sink that keeps pausing. Every byte must
# arrive, and the relay's peak RSS (VmHWM) must stay under 32 MiB: without
# backpressure its write queue would grow towards the 64 MiB cap or the
# whole 256 MiB (a relay variant that ignores backpressure peaks at about
# 220 MiB here). Under AddressSanitizer (the relay prints --asan) the RSS
# bound cannot hold: freed write chunks sit in ASan's 256 MiB quarantine
# (VmHWM ~320 MiB; ~9 MiB with quarantine_size_mb=1), so only the byte
# counts are checked there.
. "$(dirname "$0")/lib.sh"
TOTAL=268435456
LIMIT_KB=$((32 * 1024))

# The sink: counts bytes and pauses for 20 ms after every 2 MiB, so it is
# much slower than the source (at most ~100 MB/s).
cat >"$TMP/sink.js" <<'JS'
const net = require('net');
const srv = net.createServer((c) => {
  srv.close();
  let n = 0, next = 2 << 20, pauses = 0;
  c.on('data', (d) => {
    n += d.length;
    if (n >= next) {
      next += 2 << 20;
      pauses++;
      c.pause();
      setTimeout(() => c.resume(), 20);
    }
  });
  c.on('end', () => console.log(`sink bytes ${n} pauses ${pauses}`));
  c.on('close', (hadError) => console.log('sink close ' + hadError));
});
srv.listen(0, '127.0.0.1', () => {
  console.log('listening on tcp://127.0.0.1:' + srv.address().port);
});
setTimeout(() => process.exit(3), 120000).unref();
JS
start sink node "$TMP/sink.js"
sink_pid=${PIDS[-1]}
start relay "$WIRE_BUILD/tools/pipe_relay" "$PORT"
relay_pid=${PIDS[-1]}

rc=0
head -c $TOTAL /dev/zero |
  timeout 120 socat -u -b 65536 - TCP:127.0.0.1:"$PORT" || rc=$?
expect_eq "socat source exit status" 0 "$rc"

wait_exit "$relay_pid" pipe_relay 120
cat "$TMP/relay.err" >&2
expect_eq "relay exit status" 0 "$RC"
wait_exit "$sink_pid" "node sink" 120
expect_eq "sink exit status" 0 "$RC"

expect_eq "relay wrote every byte to the sink" "relayed $TOTAL" \
  "$(grep '^relayed' "$TMP/relay.out")"
sink_line=$(grep '^sink bytes' "$TMP/sink.out")
expect_eq "sink received every byte" "sink bytes $TOTAL" \
  "${sink_line% pauses *}"
pauses=${sink_line##* pauses }
[ "$pauses" -ge 120 ] || fail "the sink paused only $pauses times"
echo "ok: the sink paused $pauses times"
expect_eq "sink saw a clean close" "sink close false" \
  "$(grep '^sink close' "$TMP/sink.out")"

hwm=$(sed -n 's/^vmhwm_kb //p' "$TMP/relay.out")
if [ -z "$hwm" ] || [ "$hwm" -le 0 ]; then
  fail "no VmHWM from the relay"
fi
if grep -qx -- --asan "$TMP/relay.out"; then
  echo "skip: relay built with ASan, VmHWM ${hwm} kB not bounded"
else
  if [ "$hwm" -ge "$LIMIT_KB" ]; then
    fail "relay peak RSS ${hwm} kB >= ${LIMIT_KB} kB"
  fi
  echo "ok: relay peak RSS ${hwm} kB < ${LIMIT_KB} kB"
fi
