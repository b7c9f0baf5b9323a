# examples/udp_server against socat: one datagram per socat write.
. "$(dirname "$0")/lib.sh"
start srv "$EX/udp_server" 0
printf 'from socat' | timeout 10 socat -t 0.2 - UDP:127.0.0.1:$PORT
wait_for "$TMP/srv.out" 'server got: from socat'
expect_eq "one message line" 1 "$(grep -c 'server got: from socat from 127.0.0.1:' "$TMP/srv.out")"
