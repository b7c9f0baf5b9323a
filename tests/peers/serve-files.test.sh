# wire serve against curl and node: files with their Content-Type and
# length, index.html, an escaped directory listing, the slash redirect,
# HEAD, Last-Modified / If-Modified-Since (304), single ranges (206, 416,
# several ranges answered 200), 404, and 405 for POST and PUT; node's
# keep-alive agent fetching several files on one connection.
. "$(dirname "$0")/lib.sh"
root="$TMP/www"
mkdir -p "$root/sub" "$root/list/child" "$root/list/sp ace"
printf 'hello file\n' >"$root/a.txt"
printf '<h1>sub index</h1>\n' >"$root/sub/index.html"
printf 'body{}' >"$root/s.css"
printf '{"k":1}' >"$root/d.json"
printf 'x' >"$root/noext"
: >"$root/empty.txt"
for ext in html css js mjs json txt png jpg jpeg gif svg ico wasm pdf xml \
  mp4 webm woff2 bin; do
  printf 'x' >"$root/t.$ext"
done
printf 'x' >"$root/UPPER.PNG"
touch "$root/list/<b>&\"q'.txt" "$root/list/plain.txt"
head -c 1000 /dev/urandom >"$root/r.bin"
touch -d '2020-01-02 03:04:05 UTC' "$root/a.txt"

start srv "$WIRE" serve "$root" --port 0
grep -qE '^listening on http://127\.0\.0\.1:[0-9]+/$' "$TMP/srv.out" ||
  fail "bad listening line: $(cat "$TMP/srv.out")"
url="http://127.0.0.1:$PORT"

expect_eq "file body" "hello file" "$(curl -sS "$url/a.txt")"
expect_eq "query ignored" "hello file" "$(curl -sS "$url/a.txt?v=1#frag")"
expect_eq "percent-decoded name" "hello file" "$(curl -sS "$url/%61.txt")"
hdr=$(curl -sS -D - -o /dev/null "$url/a.txt" | tr -d '\r')
echo "$hdr" | grep -q '^HTTP/1.1 200 OK$' || fail "status: $hdr"
echo "$hdr" | grep -q '^Content-Length: 11$' || fail "length: $hdr"
echo "$hdr" | grep -q '^Last-Modified: Thu, 02 Jan 2020 03:04:05 GMT$' ||
  fail "Last-Modified: $hdr"
echo "$hdr" | grep -q '^Accept-Ranges: bytes$' || fail "Accept-Ranges: $hdr"
echo "ok: headers"

declare -A types=(
  [html]="text/html; charset=utf-8" [css]="text/css; charset=utf-8"
  [js]="text/javascript; charset=utf-8" [mjs]="text/javascript; charset=utf-8"
  [json]="application/json" [txt]="text/plain; charset=utf-8"
  [png]="image/png" [jpg]="image/jpeg" [jpeg]="image/jpeg"
  [gif]="image/gif" [svg]="image/svg+xml" [ico]="image/x-icon"
  [wasm]="application/wasm" [pdf]="application/pdf"
  [xml]="application/xml" [mp4]="video/mp4" [webm]="video/webm"
  [woff2]="font/woff2" [bin]="application/octet-stream")
for ext in "${!types[@]}"; do
  got=$(curl -sS -o /dev/null -w '%{content_type}' "$url/t.$ext")
  [ "$got" = "${types[$ext]}" ] || fail ".$ext: '$got' != '${types[$ext]}'"
done
echo "ok: ${#types[@]} content types"
expect_eq "extension case-insensitive" "image/png" \
  "$(curl -sS -o /dev/null -w '%{content_type}' "$url/UPPER.PNG")"
expect_eq "no extension" "application/octet-stream" \
  "$(curl -sS -o /dev/null -w '%{content_type}' "$url/noext")"
expect_eq "empty file" "200 0" \
  "$(curl -sS -o /dev/null -w '%{http_code} %{size_download}' "$url/empty.txt")"

# Directories: index.html, the slash redirect, the listing.
expect_eq "index.html" "<h1>sub index</h1>" "$(curl -sS "$url/sub/")"
expect_eq "index.html type" "text/html; charset=utf-8" \
  "$(curl -sS -o /dev/null -w '%{content_type}' "$url/sub/")"
expect_eq "redirect to the slash form" "301 /sub/" \
  "$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "$url/sub" |
    sed "s#$url##")"
expect_eq "redirect keeps the query" "/sub/?a=1" \
  "$(curl -sS -o /dev/null -w '%{redirect_url}' "$url/sub?a=1" | sed "s#$url##")"
expect_eq "redirect followed" "<h1>sub index</h1>" "$(curl -sSL "$url/sub")"
list=$(curl -sS "$url/list/")
echo "$list" | grep -qF '<title>Index of /list/</title>' || fail "title: $list"
echo "$list" | grep -qF '<a href="../">../</a>' || fail "parent: $list"
echo "$list" | grep -qF '<a href="./child/">child/</a>' || fail "dir: $list"
echo "$list" | grep -qF '<a href="./sp%20ace/">sp ace/</a>' || fail "space: $list"
echo "$list" | grep -qF '<a href="./plain.txt">plain.txt</a>' || fail "file: $list"
echo "$list" | grep -qF \
  "<a href=\"./%3Cb%3E%26%22q%27.txt\">&lt;b&gt;&amp;&quot;q&#39;.txt</a>" ||
  fail "escaped name: $list"
echo "$list" | grep -q '<b>' && fail "unescaped name in listing: $list"
echo "ok: listing"
# The escaped link leads back to the file.
expect_eq "listing link works" 200 \
  "$(curl -sS -o /dev/null -w '%{http_code}' "$url/list/%3Cb%3E%26%22q%27.txt")"
expect_eq "root listing has no parent" 0 \
  "$(curl -sS "$url/" | grep -c 'href="../"' || true)"

# HEAD: the headers of GET, no body.
head=$(curl -sS -I "$url/a.txt" | tr -d '\r')
echo "$head" | grep -q '^HTTP/1.1 200 OK$' || fail "HEAD status: $head"
echo "$head" | grep -q '^Content-Length: 11$' || fail "HEAD length: $head"
echo "$head" | grep -q '^Content-Type: text/plain; charset=utf-8$' ||
  fail "HEAD type: $head"
expect_eq "HEAD has no body" 0 \
  "$(curl -sS -I -o /dev/null -w '%{size_download}' "$url/a.txt")"
expect_eq "HEAD of a listing" 0 \
  "$(curl -sS -I -o /dev/null -w '%{size_download}' "$url/list/")"

# If-Modified-Since.
code() { curl -sS -o /dev/null -w '%{http_code}' "$@"; }
expect_eq "304 at the same date" 304 \
  "$(code -H 'If-Modified-Since: Thu, 02 Jan 2020 03:04:05 GMT' "$url/a.txt")"
expect_eq "304 at a later date" 304 \
  "$(code -H 'If-Modified-Since: Fri, 01 Jan 2021 00:00:00 GMT' "$url/a.txt")"
expect_eq "304 with an RFC 850 date" 304 \
  "$(code -H 'If-Modified-Since: Friday, 01-Jan-21 00:00:00 GMT' "$url/a.txt")"
expect_eq "200 at an earlier date" 200 \
  "$(code -H 'If-Modified-Since: Thu, 02 Jan 2020 03:04:04 GMT' "$url/a.txt")"
expect_eq "200 for a bad date" 200 \
  "$(code -H 'If-Modified-Since: yesterday' "$url/a.txt")"
expect_eq "If-None-Match wins" 200 \
  "$(code -H 'If-None-Match: "x"' \
    -H 'If-Modified-Since: Fri, 01 Jan 2021 00:00:00 GMT' "$url/a.txt")"
r304=$(curl -sS -D - -o /dev/null \
  -H 'If-Modified-Since: Fri, 01 Jan 2021 00:00:00 GMT' "$url/a.txt" | tr -d '\r')
echo "$r304" | grep -q '^Last-Modified: Thu, 02 Jan 2020 03:04:05 GMT$' ||
  fail "304 without Last-Modified: $r304"
# curl's -z sends the file's own date: a conditional download.
expect_eq "curl -z" 0 \
  "$(curl -sS -z 'Thu, 02 Jan 2020 03:04:05 GMT' -o /dev/null \
    -w '%{size_download}' "$url/a.txt")"

# Ranges.
rng() {
  curl -sS -r "$1" -D "$TMP/rh" -o "$TMP/rb" "$url/r.bin"
  tr -d '\r' <"$TMP/rh" >"$TMP/rh2"
}
rng 0-99
grep -q '^HTTP/1.1 206 Partial Content$' "$TMP/rh2" || fail "206: $(cat "$TMP/rh2")"
grep -q '^Content-Range: bytes 0-99/1000$' "$TMP/rh2" || fail "range 0-99"
grep -q '^Content-Length: 100$' "$TMP/rh2" || fail "length 0-99"
cmp "$TMP/rb" <(head -c 100 "$root/r.bin") || fail "bytes 0-99"
rng 900-
grep -q '^Content-Range: bytes 900-999/1000$' "$TMP/rh2" || fail "range 900-"
cmp "$TMP/rb" <(tail -c 100 "$root/r.bin") || fail "bytes 900-"
rng -10
grep -q '^Content-Range: bytes 990-999/1000$' "$TMP/rh2" || fail "range -10"
cmp "$TMP/rb" <(tail -c 10 "$root/r.bin") || fail "bytes -10"
rng 990-5000
grep -q '^Content-Range: bytes 990-999/1000$' "$TMP/rh2" || fail "range clamp"
rng -5000
grep -q '^Content-Range: bytes 0-999/1000$' "$TMP/rh2" || fail "suffix clamp"
rng 500-500
cmp "$TMP/rb" <(tail -c +501 "$root/r.bin" | head -c 1) || fail "one byte"
echo "ok: 206"
rng 1000-
grep -q '^HTTP/1.1 416 Range Not Satisfiable$' "$TMP/rh2" || fail "416: $(cat "$TMP/rh2")"
grep -q '^Content-Range: bytes \*/1000$' "$TMP/rh2" || fail "416 Content-Range"
expect_eq "416 for -0" 416 "$(code -H 'Range: bytes=-0' "$url/r.bin")"
expect_eq "416 on an empty file" 416 "$(code -r 0- "$url/empty.txt")"
expect_eq "several ranges: 200" "200 1000" \
  "$(curl -sS -r 0-1,5-6 -o /dev/null -w '%{http_code} %{size_download}' "$url/r.bin")"
expect_eq "malformed range: 200" 200 "$(code -H 'Range: bytes=9-3' "$url/r.bin")"
expect_eq "other unit: 200" 200 "$(code -H 'Range: items=0-1' "$url/r.bin")"
expect_eq "HEAD ignores Range" 200 "$(code -I -r 0-1 "$url/r.bin")"

# Missing files and other methods.
expect_eq "404" 404 "$(code "$url/nope.txt")"
expect_eq "404 under a file" 404 "$(code "$url/a.txt/x")"
for m in POST PUT DELETE PATCH; do
  r=$(curl -sS -X "$m" -d 'data' -D - -o /dev/null "$url/a.txt" | tr -d '\r')
  echo "$r" | grep -q '^HTTP/1.1 405 Method Not Allowed$' || fail "$m: $r"
  echo "$r" | grep -q '^Allow: GET, HEAD$' || fail "$m Allow: $r"
done
echo "ok: 405 with Allow"
expect_eq "file untouched" "hello file" "$(curl -sS "$url/a.txt")"

# node's keep-alive agent: several files on one connection.
timeout 20 node -e '
const http = require("http");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const ports = new Set();
const want = [["/a.txt", "text/plain; charset=utf-8", "hello file\n"],
              ["/d.json", "application/json", "{\"k\":1}"],
              ["/s.css", "text/css; charset=utf-8", "body{}"],
              ["/sub/", "text/html; charset=utf-8", "<h1>sub index</h1>\n"]];
(async () => {
  for (const [path, type, body] of want) {
    const got = await new Promise((ok, ko) => {
      http.get({ port: +process.argv[1], host: "127.0.0.1", path, agent }, (res) => {
        ports.add(res.socket.localPort);
        let b = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (b += c));
        res.on("end", () => ok([res.statusCode, res.headers["content-type"], b]));
      }).on("error", ko);
    });
    const exp = [200, type, body];
    if (JSON.stringify(got) !== JSON.stringify(exp))
      throw new Error(path + ": " + JSON.stringify(got));
  }
  if (ports.size !== 1) throw new Error("connections: " + ports.size);
  agent.destroy();
})().catch((e) => { console.error(e.message); process.exit(1); });
' "$PORT" || fail "node keep-alive client"
echo "ok: node keep-alive, one connection"
kill -0 "${PIDS[0]}" || fail "wire serve died"

# A port in use: an error on stderr, exit status 1, and (under ASan) a
# clean exit with no leak report.
"$WIRE" serve "$root" --port "$PORT" >"$TMP/busy.out" 2>"$TMP/busy.err" &
busy=$!
wait_exit "$busy" "wire serve on a busy port" 10
expect_eq "busy port exit status" 1 "$RC"
grep -q '^wire serve: listen: address already in use$' "$TMP/busy.err" ||
  fail "busy port message: $(cat "$TMP/busy.err")"
"$WIRE" serve "$TMP/nope" >/dev/null 2>"$TMP/nodir.err" && fail "missing DIR accepted"
grep -q 'is not a directory' "$TMP/nodir.err" || fail "missing DIR message"
echo "ok: busy port and missing DIR"
