# wire get against a node http server: the body byte for byte, -i (status
# line and headers, exact), -X and -H as the server saw them, -u and URL
# userinfo as exact Authorization bytes, -v on stderr, exit 22 for a 404,
# 1 for a refused connection and for https:// to a plain HTTP port (a TLS
# error with OpenSSL's reason), and -o FILE with no
# progress bar when stderr is not a terminal (and one when it is).
. "$(dirname "$0")/lib.sh"
head -c $((1024 * 1024 + 7)) /dev/urandom >"$TMP/blob"
cat >"$TMP/srv.js" <<'JS'
const http = require('http');
const fs = require('fs');
const blob = fs.readFileSync(process.argv[2]);
const srv = http.createServer((req, res) => {
  res.sendDate = false; // a head that -i can compare exactly
  if (req.url === '/blob') return res.end(blob);
  if (req.url === '/created') {
    res.writeHead(201, { 'X-Custom': 'yes', 'Content-Length': '5' });
    return res.end('body\n');
  }
  if (req.url === '/missing') {
    res.writeHead(404, { 'Content-Length': '10' });
    return res.end('not found\n');
  }
  // Anything else: what the server received, one line per header.
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    let out = req.method + ' ' + req.url + '\n';
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      out += req.rawHeaders[i] + ': ' + req.rawHeaders[i + 1] + '\n';
    res.end(out + 'body: ' + body + '\n');
  });
});
srv.listen(0, '127.0.0.1', () =>
  console.log('listening on http://127.0.0.1:' + srv.address().port + '/'));
JS
start srv node "$TMP/srv.js" "$TMP/blob"
url="http://127.0.0.1:$PORT"

timeout 30 "$WIRE" get "$url/blob" >"$TMP/got" 2>"$TMP/err" || fail "get /blob"
cmp "$TMP/blob" "$TMP/got" || fail "1 MiB body differs"
[ ! -s "$TMP/err" ] || fail "stderr not empty: $(cat "$TMP/err")"
echo "ok: 1 MiB body byte for byte, nothing on stderr"

timeout 30 "$WIRE" get -i "$url/created" >"$TMP/got" || fail "get -i"
printf 'HTTP/1.1 201 Created\r\nX-Custom: yes\r\nContent-Length: 5\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nbody\n' >"$TMP/want"
cmp "$TMP/want" "$TMP/got" || fail "-i output: $(od -c "$TMP/got" | head)"
echo "ok: -i status line, headers and body exact"

timeout 30 "$WIRE" get -X PUT -H 'X-One: 1' -H 'x-two:  two words ' \
  -H 'Accept: text/plain' -H 'User-Agent:' "$url/seen?q=1#frag" >"$TMP/got" ||
  fail "get -X -H"
printf '%s\n' 'PUT /seen?q=1' "Host: 127.0.0.1:$PORT" 'X-One: 1' \
  'x-two: two words' 'Accept: text/plain' 'Content-Length: 0' \
  'Connection: keep-alive' \
  'body: ' >"$TMP/want"
diff "$TMP/want" "$TMP/got" || fail "-X/-H as seen by the server"
echo "ok: -X PUT, -H added, replaced and dropped, fragment not sent"

timeout 30 "$WIRE" get -u 'Aladdin:open sesame' "$url/auth" >"$TMP/got" ||
  fail "get -u"
grep -qx 'Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==' "$TMP/got" ||
  fail "-u Authorization: $(cat "$TMP/got")"
timeout 30 "$WIRE" get "http://Aladdin:open%20sesame@127.0.0.1:$PORT/auth" \
  >"$TMP/got" || fail "get with userinfo"
grep -qx 'Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==' "$TMP/got" ||
  fail "URL userinfo Authorization: $(cat "$TMP/got")"
echo "ok: -u and URL userinfo give the exact Authorization bytes"

timeout 30 "$WIRE" get -v -d 'a=1&b=2' "$url/v" >"$TMP/got" 2>"$TMP/err" ||
  fail "get -v -d"
expect_eq "-d body seen" "body: a=1&b=2" "$(tail -1 "$TMP/got")"
grep -qx 'POST /v' "$TMP/got" || fail "-d is not a POST: $(head -1 "$TMP/got")"
grep -qx 'Content-Type: application/x-www-form-urlencoded' "$TMP/got" ||
  fail "no form Content-Type"
# -v prints the head exactly as the server received it.
sed -n 's/^> //p' "$TMP/err" | grep -v '^>' >"$TMP/sent"
sed -n '2,/^body: /p' "$TMP/got" | sed '$d' >"$TMP/seen"
diff "$TMP/seen" <(sed 1d "$TMP/sent") || fail "-v head differs from the server's view"
grep -qx '> POST /v HTTP/1.1' "$TMP/err" || fail "-v request line: $(cat "$TMP/err")"
grep -qx '< HTTP/1.1 200 OK' "$TMP/err" || fail "-v status line: $(cat "$TMP/err")"
grep -qx '<' "$TMP/err" || fail "-v end of response head"
echo "ok: -v request and response heads on stderr"

rc=0
timeout 30 "$WIRE" get "$url/missing" >"$TMP/got" 2>"$TMP/err" || rc=$?
expect_eq "exit status for a 404" 22 "$rc"
expect_eq "404 body still printed" "not found" "$(cat "$TMP/got")"

# A port nobody listens on: bind one, note it, close it.
dead=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
rc=0
timeout 30 "$WIRE" get "http://127.0.0.1:$dead/" >"$TMP/got" 2>"$TMP/err" || rc=$?
expect_eq "exit status for a refused connection" 1 "$rc"
grep -qi 'connection refused' "$TMP/err" || fail "refused: $(cat "$TMP/err")"
rc=0
timeout 30 "$WIRE" get "https://127.0.0.1:$PORT/" 2>"$TMP/err" || rc=$?
expect_eq "exit status for https:// to an http port" 1 "$rc"
grep -q 'TLS error' "$TMP/err" || fail "https: $(cat "$TMP/err")"
grep -q 'wrong version number' "$TMP/err" || fail "https: $(cat "$TMP/err")"
rc=0
timeout 30 "$WIRE" get -Z "$url/" 2>/dev/null || rc=$?
expect_eq "exit status for a bad option" 2 "$rc"

timeout 30 "$WIRE" get -o "$TMP/out" "$url/blob" >"$TMP/got" 2>"$TMP/err" ||
  fail "get -o"
cmp "$TMP/blob" "$TMP/out" || fail "-o file differs"
[ ! -s "$TMP/got" ] || fail "-o also wrote to stdout"
[ ! -s "$TMP/err" ] || fail "progress bar without a terminal: $(od -c "$TMP/err" | head -3)"
echo "ok: -o FILE, no progress bar when stderr is not a terminal"
if command -v script >/dev/null; then
  timeout 30 script -qec "'$WIRE' get -o '$TMP/out2' '$url/blob'" /dev/null \
    >"$TMP/tty" </dev/null || fail "get -o under script"
  cmp "$TMP/blob" "$TMP/out2" || fail "-o file differs (tty)"
  grep -q '100.0% \[#*\] 1.00 MiB / 1.00 MiB' "$TMP/tty" ||
    fail "no progress bar on a terminal: $(od -c "$TMP/tty" | head -5)"
  echo "ok: progress bar when stderr is a terminal"
else
  echo "skip: no script(1) for a terminal"
fi
