# wire serve never serves anything outside its directory: "..", encoded
# dots and slashes, an encoded NUL, absolute-form targets, and symlinks
# (to a file, to a directory, as index.html) that lead out of DIR are all
# refused; symlinks that stay inside still work. Each attempt is sent both
# by curl (--path-as-is, so curl does not clean the path itself) and raw.
. "$(dirname "$0")/lib.sh"
root="$TMP/www"
mkdir -p "$root/in/deeper" "$TMP/outside" "$TMP/evil"
printf 'SECRET\n' >"$TMP/outside/secret.txt"
printf 'SECRET\n' >"$TMP/evil/index.html"
printf 'inside\n' >"$root/in/ok.txt"
ln -s "$TMP/outside/secret.txt" "$root/abs-link"
ln -s ../outside/secret.txt "$root/rel-link"
ln -s "$TMP/outside" "$root/dir-link"
ln -s "$TMP/evil/index.html" "$root/in/deeper/index.html"
ln -s in/ok.txt "$root/good-link"
ln -s in "$root/good-dir"

start srv "$WIRE" serve "$root" --port 0
url="http://127.0.0.1:$PORT"

# get PATH: "CODE BODY" via curl, path sent as is.
get() {
  curl -sS --path-as-is -o "$TMP/body" -w '%{http_code}' "$url$1"
  printf ' '
  cat "$TMP/body"
}
# raw TARGET: the status line for a request with exactly that target.
raw() {
  printf 'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$1" |
    timeout 10 socat -t 5 - TCP:127.0.0.1:"$PORT" >"$TMP/raw"
  grep -q SECRET "$TMP/raw" && fail "raw $1 leaked the secret"
  head -n 1 "$TMP/raw" | tr -d '\r'
}
refused() { # WHAT EXPECTED_CODE PATH
  local got
  got=$(get "$3")
  case "$got" in *SECRET*) fail "$1 leaked the secret: $got" ;; esac
  expect_eq "$1 ($3)" "$2" "${got%% *}"
}

refused "dot-dot" 403 "/../outside/secret.txt"
refused "dot-dot deeper" 403 "/in/../../outside/secret.txt"
refused "encoded dots" 403 "/%2e%2e/outside/secret.txt"
refused "upper-case encoded dots" 403 "/%2E%2E/outside/secret.txt"
refused "mixed dots" 403 "/.%2e/outside/secret.txt"
refused "encoded slash" 400 "/..%2f..%2foutside/secret.txt"
refused "encoded backslash" 404 "/..%5coutside%5csecret.txt"
refused "encoded NUL" 400 "/in/ok.txt%00.html"
refused "bad escape" 400 "/in/ok%zz.txt"
refused "truncated escape" 400 "/in/ok.txt%2"
refused "absolute symlink" 403 "/abs-link"
refused "relative symlink" 403 "/rel-link"
refused "symlinked directory" 403 "/dir-link/secret.txt"
refused "symlinked directory listing" 403 "/dir-link/"
refused "symlinked index.html" 403 "/in/deeper/"
refused "symlinked index.html by name" 403 "/in/deeper/index.html"

expect_eq "dot-dot inside DIR" "200 inside" "$(get /in/deeper/../ok.txt)"
expect_eq "dot segments" "200 inside" "$(get /./in/./ok.txt)"
expect_eq "symlink inside DIR" "200 inside" "$(get /good-link)"
expect_eq "symlinked dir inside DIR" "200 inside" "$(get /good-dir/ok.txt)"

expect_eq "raw dot-dot" "HTTP/1.1 403 Forbidden" "$(raw /../outside/secret.txt)"
expect_eq "raw many dot-dots" "HTTP/1.1 403 Forbidden" \
  "$(raw /../../../../../../../../etc/passwd)"
expect_eq "raw absolute form" "HTTP/1.1 403 Forbidden" \
  "$(raw http://x/../outside/secret.txt)"
expect_eq "raw no leading slash" "HTTP/1.1 400 Bad Request" \
  "$(raw ../outside/secret.txt)"
expect_eq "raw absolute form inside" "HTTP/1.1 200 OK" "$(raw http://x/in/ok.txt)"

# node's http client does not normalise paths either.
timeout 20 node -e '
const http = require("http");
const paths = ["/../outside/secret.txt", "/%2e%2e/%2e%2e/outside/secret.txt",
               "/abs-link", "/in/ok.txt%00"];
let left = paths.length;
for (const path of paths) {
  http.get({ port: +process.argv[1], host: "127.0.0.1", path }, (res) => {
    let b = "";
    res.on("data", (c) => (b += c));
    res.on("end", () => {
      if (res.statusCode < 400 || b.includes("SECRET")) {
        console.error(path + ": " + res.statusCode + " " + b);
        process.exit(1);
      }
      if (--left === 0) process.exit(0);
    });
  }).on("error", (e) => { console.error(e.message); process.exit(1); });
}' "$PORT" || fail "node client"
echo "ok: node client refused"
kill -0 "${PIDS[0]}" || fail "wire serve died"
