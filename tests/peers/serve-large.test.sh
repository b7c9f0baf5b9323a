# wire serve streams large files: a 50 MiB file downloaded by curl and by
# node and compared with cmp, three at once, a range in the middle of it,
# pipelined requests for large and small files answered in order
# (python, raw socket), clients that go away mid-body (no fd left
# open, still serving), and the server's peak RSS well under the file's
# size (skipped under ASan, whose quarantine keeps freed chunks).
. "$(dirname "$0")/lib.sh"
root="$TMP/www"
mkdir -p "$root"
head -c $((50 * 1024 * 1024)) /dev/urandom >"$root/big.bin"
head -c $((3 * 1024 * 1024 + 17)) /dev/urandom >"$root/mid.bin"
printf 'small\n' >"$root/small.txt"

start srv "$WIRE" serve "$root" --port 0
pid=${PIDS[0]}
url="http://127.0.0.1:$PORT"

timeout 60 curl -sS -o "$TMP/got" "$url/big.bin"
cmp "$TMP/got" "$root/big.bin" || fail "50 MiB download differs"
echo "ok: 50 MiB by curl"
rm -f "$TMP/got"

timeout 60 node -e '
const http = require("http");
const fs = require("fs");
http.get({ port: +process.argv[1], host: "127.0.0.1", path: "/big.bin" }, (res) => {
  if (res.statusCode !== 200) { console.error(res.statusCode); process.exit(1); }
  res.pipe(fs.createWriteStream(process.argv[2]));
}).on("error", (e) => { console.error(e.message); process.exit(1); });
' "$PORT" "$TMP/got" || fail "node download"
cmp "$TMP/got" "$root/big.bin" || fail "50 MiB node download differs"
echo "ok: 50 MiB by node"
rm -f "$TMP/got"

for i in 1 2 3; do
  timeout 60 curl -sS -o "$TMP/par$i" "$url/big.bin" &
done
wait_all=0
for job in $(jobs -p); do
  [ "$job" = "$pid" ] && continue
  wait "$job" || wait_all=1
done
[ $wait_all = 0 ] || fail "a parallel download failed"
for i in 1 2 3; do
  cmp "$TMP/par$i" "$root/big.bin" || fail "parallel download $i differs"
  rm -f "$TMP/par$i"
done
echo "ok: three at once"

start=$((20 * 1024 * 1024 + 3))
end=$((start + 5 * 1024 * 1024))
timeout 60 curl -sS -r "$start-$end" -o "$TMP/part" -w '%{http_code}' \
  "$url/big.bin" >"$TMP/code"
expect_eq "middle range status" 206 "$(cat "$TMP/code")"
cmp "$TMP/part" <(tail -c +$((start + 1)) "$root/big.bin" |
  head -c $((end - start + 1))) || fail "middle range differs"
echo "ok: 5 MiB range from the middle"

# Pipelined: big, small, mid on one connection, in one write. (The last
# request does not ask to close: the responses are read by their lengths.)
timeout 60 python3 - "$PORT" "$root" <<'PY' || fail "pipelined transfers"
import socket, sys
port, root = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
names = ["big.bin", "small.txt", "mid.bin", "small.txt"]
s.sendall(b"".join(b"GET /%s HTTP/1.1\r\nHost: x\r\n\r\n" % n.encode()
                   for n in names))
data = bytearray()
def need(n):
    while len(data) < n:
        b = s.recv(1 << 20)
        assert b, "connection closed after %d bytes" % len(data)
        data.extend(b)
pos = 0
for name in names:
    while data.find(b"\r\n\r\n", pos) < 0:
        need(len(data) + 1)
    end = data.index(b"\r\n\r\n", pos)
    lines = data[pos:end].decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK", (name, lines[0])
    assert "Connection: keep-alive" in lines, (name, lines)
    cl = [int(l.split(":")[1]) for l in lines
          if l.lower().startswith("content-length:")][0]
    need(end + 4 + cl)
    body = bytes(data[end + 4:end + 4 + cl])
    assert body == open(root + "/" + name, "rb").read(), name
    pos = end + 4 + cl
s.settimeout(0.5)
try:
    extra = s.recv(100)
except socket.timeout:
    extra = b""
assert extra == b"", ("trailing bytes", extra[:100])
print("ok: four pipelined responses in order")
PY

# Clients that leave mid-body: the server closes the file and goes on.
fds_before=$(ls /proc/"$pid"/fd | wc -l)
for i in 1 2 3 4; do
  timeout 10 curl -sS --limit-rate 2M -m 1 -o /dev/null "$url/big.bin" 2>/dev/null || true
done
timeout 10 python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(100000)
s.close()
PY
for i in $(seq 1 100); do
  fds_after=$(ls /proc/"$pid"/fd | wc -l)
  [ "$fds_after" -le "$fds_before" ] && break
  sleep 0.1
done
expect_eq "no fd left open" "$fds_before" "$fds_after"
expect_eq "still serving" "small" "$(curl -sS "$url/small.txt")"

hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/"$pid"/status)
if grep -q '^WIRE_SANITIZE:BOOL=ON' "$WIRE_BUILD/CMakeCache.txt" 2>/dev/null; then
  echo "skip: ASan build, VmHWM ${hwm} kB not bounded"
else
  [ "$hwm" -lt 16384 ] || fail "peak RSS ${hwm} kB: the file was buffered"
  echo "ok: peak RSS ${hwm} kB"
fi
