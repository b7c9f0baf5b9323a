# examples/http_server against curl: the seed's response, keep-alive reuse
# across requests, HEAD without a body, HTTP/1.0 closing, chunked upload,
# Expect: 100-continue, and pipelined requests answered in order.
. "$(dirname "$0")/lib.sh"
start srv "$EX/http_server" 0
url="http://127.0.0.1:$PORT"

body=$(curl -sS "$url/")
expect_eq "body" "Hello World" "$body"
ctype=$(curl -sS -o /dev/null -w '%{content_type}' "$url/")
expect_eq "content type" "text/plain" "$ctype"

# Two URLs on one curl command line reuse one connection.
n=$(curl -sS -v "$url/a" "$url/b" 2>&1 | grep -c 'Re-using existing connection')
expect_eq "keep-alive reuse" 1 "$n"

head=$(curl -sS -I "$url/" | tr -d '\r')
echo "$head" | grep -q '^HTTP/1.1 200 OK$' || fail "HEAD status: $head"
echo "$head" | grep -q '^Content-Length: 12$' || fail "HEAD length: $head"
size=$(curl -sS -I -o /dev/null -w '%{size_download}' "$url/")
expect_eq "HEAD has no body" 0 "$size"

v10=$(curl -sS -0 -D - -o /dev/null "$url/" | tr -d '\r')
echo "$v10" | grep -q '^HTTP/1.0 200 OK$' || fail "HTTP/1.0 status: $v10"
echo "$v10" | grep -q '^Connection: close$' || fail "HTTP/1.0 close: $v10"

head -c 300000 /dev/urandom > "$TMP/up"
out=$(curl -sS -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/up" "$url/up")
expect_eq "chunked upload answered" "Hello World" "$out"

cont=$(curl -sS -v -H 'Expect: 100-continue' --data-binary @"$TMP/up" "$url/" 2>&1 | grep -c '< HTTP/1.1 100 Continue')
expect_eq "100 Continue sent" 1 "$cont"

resp=$(printf 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
  timeout 10 socat -t 5 - TCP:127.0.0.1:$PORT | tr -d '\r')
expect_eq "three pipelined responses" 3 "$(echo "$resp" | grep -c '^HTTP/1.1 200 OK$')"
expect_eq "last one closes" 1 "$(echo "$resp" | grep -c '^Connection: close$')"

bad=$(printf 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n' |
  timeout 10 socat -t 5 - TCP:127.0.0.1:$PORT | head -n 1 | tr -d '\r')
expect_eq "bad header answered 400" "HTTP/1.1 400 Bad Request" "$bad"

# The server is still up and answering.
expect_eq "still serving" "Hello World" "$(curl -sS "$url/")"

# Bodies read back exact through tests/tools/http_peer_server: a chunked
# upload and an Expect: 100-continue upload echoed, keep-alive reuse
# across three URLs of different kinds.
start peer "$WIRE_BUILD/tools/http_peer_server"
purl="http://127.0.0.1:$PORT"
curl -sS -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/up" -o "$TMP/echo1" "$purl/echo"
cmp "$TMP/up" "$TMP/echo1" || fail "chunked upload not echoed exact"
echo "ok: chunked upload echoed exact"
curl -sS -v -H 'Expect: 100-continue' --data-binary @"$TMP/up" -o "$TMP/echo2" "$purl/echo" 2>"$TMP/v2"
cmp "$TMP/up" "$TMP/echo2" || fail "100-continue upload not echoed exact"
expect_eq "100 Continue before the echo" 1 "$(grep -c '< HTTP/1.1 100 Continue' "$TMP/v2")"
n=$(curl -sS -v -o /dev/null -o /dev/null -o /dev/null "$purl/" "$purl/chunks?100" "$purl/big?100000" 2>&1 |
  grep -c 'Re-using existing connection')
expect_eq "keep-alive reuse across kinds" 2 "$n"
