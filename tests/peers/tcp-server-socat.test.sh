# examples/tcp_server against socat: the greeting, the reply per chunk and
# the "连接断开" line when the peer ends.
. "$(dirname "$0")/lib.sh"
start srv "$EX/tcp_server" 0
out=$(printf 'abc' | timeout 10 socat -t 2 - TCP:127.0.0.1:$PORT)
expect_eq "greeting then reply" "$(printf 'hello world\xef\xbc\x9a\n\xe4\xbd\xa0\xe5\xa5\xbd')" "$out"
wait_for "$TMP/srv.out" '连接断开'
expect_eq "one disconnect line" 1 "$(grep -c '连接断开' "$TMP/srv.out")"
