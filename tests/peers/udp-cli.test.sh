# wire udp: as a listener it prints what socat sends; as a client each
# stdin line is one datagram to a node echo server, and the echoes are
# printed one per line.
. "$(dirname "$0")/lib.sh"
start lis "$WIRE" udp -l 127.0.0.1 0 </dev/null
printf 'first datagram' | timeout 10 socat -t 0.2 - UDP:127.0.0.1:$PORT
printf 'second' | timeout 10 socat -t 0.2 - UDP:127.0.0.1:$PORT
wait_for "$TMP/lis.out" '^second$'
expect_eq "listener output" "$(printf 'first datagram\nsecond')" \
  "$(grep -v 'listening on' "$TMP/lis.out")"

start echo node "$WIRE_SRC/tests/peers/udp-server.js" udp4 127.0.0.1 echo
out=$(printf 'alpha\nbeta\ngamma' | timeout 10 "$WIRE" udp -w 1 127.0.0.1 "$PORT")
expect_eq "echoes, one per line" "$(printf 'alpha\nbeta\ngamma')" "$out"
expect_eq "node got three datagrams" 3 "$(grep -c '^got: ' "$TMP/echo.out")"

# A name works too, and a bad address is a clear error, exit 1.
out=$(printf 'named' | timeout 10 "$WIRE" udp -w 1 localhost "$PORT")
expect_eq "via localhost" "named" "$out"
if "$WIRE" udp 999.1.1.1 9 </dev/null 2>"$TMP/bad.err"; then
  fail "a malformed address succeeded"
fi
grep -q 'invalid argument' "$TMP/bad.err" || fail "$(cat "$TMP/bad.err")"
echo "ok: malformed address rejected"
