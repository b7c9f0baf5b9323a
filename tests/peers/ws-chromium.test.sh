# Chromium (headless, Debian's) opens a page served by `wire serve` that
# connects to the `--ws-echo` endpoint, exchanges a text message, a
# binary message and a 100,000-byte text, closes with 1000, and writes
# what it saw into the DOM (tests/peers/ws-chromium.html). With
# --ws-deflate the browser's permessage-deflate offer is taken; without
# it, no extension. Chromium is driven over the DevTools protocol
# (tests/peers/ws-chromium.js, on the npm ws package) because --dump-dom
# does not wait for WebSocket traffic. Bounded with timeout.
. "$(dirname "$0")/lib.sh"
export NODE_PATH="$WIRE_SRC/tests/peers/node_modules"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "no $CHROMIUM: run 'bash scripts/setup'"
mkdir -p "$TMP/www"
cp "$WIRE_SRC/tests/peers/ws-chromium.html" "$TMP/www/page.html"

# browse NAME URL: the page's result lines into $TMP/NAME.dom.
browse() {
  timeout 60 node "$WIRE_SRC/tests/peers/ws-chromium.js" "$CHROMIUM" \
    "$TMP/ud-$1" "$2" 40000 >"$TMP/$1.dom" ||
    { cat "$TMP/$1.dom" >&2; fail "chromium: $1"; }
}

start deflate "$WIRE" serve "$TMP/www" --port 0 --ws-echo /echo --ws-deflate
browse deflate "http://127.0.0.1:$PORT/page.html"
expect_eq "chromium with --ws-deflate" "extensions=permessage-deflate
protocol=chat
text=hello from chromium
binary=ab:0,1,2,250,255
big=same
close=1000 clean=true
RESULT-END" "$(cat "$TMP/deflate.dom")"

start plain "$WIRE" serve "$TMP/www" --port 0 --ws-echo /echo
browse plain "http://127.0.0.1:$PORT/page.html"
expect_eq "chromium without deflate" "extensions=
protocol=chat
text=hello from chromium
binary=ab:0,1,2,250,255
big=same
close=1000 clean=true
RESULT-END" "$(cat "$TMP/plain.dom")"
