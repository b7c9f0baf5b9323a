# Connect tries each resolved address in turn. A private mount namespace
# gives the test its own /etc/hosts, where "dualhost" resolves to ::1 first
# and 127.0.0.1 second (nothing outside the test sees it). A node server
# listening on 127.0.0.1 only refuses the ::1 attempt: `wire tcp dualhost`
# must fall back to 127.0.0.1 and get its reply. A server on ::1 only is
# reached at the first address. unshare and mount come from util-linux
# (scripts/setup); CI runs as root.
. "$(dirname "$0")/lib.sh"
printf '::1 dualhost\n127.0.0.1 dualhost\n' > "$TMP/hosts"
unshare -m bash -c "mount --bind '$TMP/hosts' /etc/hosts && getent ahosts dualhost" \
  > "$TMP/order" || fail "unshare/mount of a private /etc/hosts"
expect_eq "resolver order" "::1 127.0.0.1" \
  "$(awk '/STREAM/ {print $1}' "$TMP/order" | paste -sd' ')"

for fam in 127.0.0.1 ::1; do
  cat > "$TMP/srv.js" <<JS
const net = require('net');
const srv = net.createServer(s => { s.end('reply from $fam\n'); });
srv.listen(0, '$fam', () => console.log('listening on tcp://$fam:' + srv.address().port));
JS
  start "srv-$fam" node "$TMP/srv.js"
  out=$(unshare -m bash -c "mount --bind '$TMP/hosts' /etc/hosts && \
    timeout 10 '$WIRE' tcp dualhost $PORT < /dev/null")
  expect_eq "connect via dualhost to a server on $fam only" "reply from $fam" "$out"
done
