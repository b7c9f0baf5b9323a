# Raw bytes over socat against the wire HTTP server: malformed requests
# get their status and a closed connection, the smuggling classes are
# rejected without serving the request hidden in the body, a byte-a-time
# sender of a whole request is still served, and the server keeps serving.
. "$(dirname "$0")/lib.sh"
start srv "$WIRE_BUILD/tools/http_peer_server"

# send BYTES: the server's whole answer (socat exits when it closes).
send() {
  printf '%b' "$1" | timeout 10 socat -t 5 - TCP:127.0.0.1:"$PORT" | tr -d '\r'
}

check() { # STATUS BYTES
  local out
  out=$(send "$2")
  local first
  first=$(echo "$out" | head -n 1)
  expect_eq "$(printf '%q' "$2" | cut -c1-60) -> $1" "HTTP/1.1 $1" "${first% *}"
  [ "$(echo "$out" | grep -c '^HTTP/1.1 ')" = 1 ] || fail "more than one response: $out"
  echo "$out" | grep -q '^Connection: close$' || fail "no Connection: close: $out"
}

H='Host: x\r\n'
check "400 Bad" "GET / HTTP/1.1\r\n${H}Bad Header: y\r\n\r\n"
check "400 Bad" "GET / HTTP/1.1\r\n\r\n"
check "400 Bad" "GET / HTTP/1.1\r\n${H} folded\r\n\r\n"
check "400 Bad" "GET / HTTP/1.1\n${H}\n"
check "501 Not" "FOO / HTTP/1.1\r\n${H}\r\n"
check "501 Not" "POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n"
check "505 HTTP Version Not" "GET / HTTP/2.0\r\n${H}\r\n"
check "431 Request Header Fields Too" "GET / HTTP/1.1\r\n${H}X: $(head -c 17000 /dev/zero | tr '\0' a)\r\n\r\n"
check "414 URI Too" "GET /$(head -c 9000 /dev/zero | tr '\0' a) HTTP/1.1\r\n${H}\r\n"

S='GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'
check "400 Bad" "POST /echo HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$S"
check "400 Bad" "POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n$S"
check "400 Bad" "POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n$S"
check "400 Bad" "POST /echo HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n$S"
check "400 Bad" "POST /echo HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: 35\r\n\r\n$S"

# A chunked body holding a request: it is echoed as body, and the one
# request after it is served once.
out=$(send "POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n23\r\n$S\r\n0\r\n\r\nGET /last HTTP/1.1\r\n${H}Connection: close\r\n\r\n")
expect_eq "responses to a body holding a request" 2 "$(echo "$out" | grep -c '^HTTP/1.1 200 OK$')"
echo "$out" | grep -q '^GET /smuggled HTTP/1.1$' || fail "the body was not echoed: $out"

# One byte at a time (socat -b1 writes each byte on its own).
out=$(printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
  timeout 10 socat -b1 -t 5 - TCP:127.0.0.1:"$PORT" | tr -d '\r' | tail -n 1)
expect_eq "request sent a byte at a time" "Hello World" "$out"

expect_eq "still serving" "Hello World" "$(curl -sS "http://127.0.0.1:$PORT/")"
