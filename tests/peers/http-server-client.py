# python3 http.client against tests/tools/http_peer_server: several
# requests on one connection (GET, HEAD, POST with Content-Length, a
# chunked upload with encode_chunked, an HTTP/1.0 request), every body
# exact. Prints "ok" or raises.
import http.client
import sys

port = int(sys.argv[1])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)

c.request("GET", "/")
r = c.getresponse()
assert r.status == 200 and r.read() == b"Hello World\n", r.status
sock = c.sock

c.request("HEAD", "/")
r = c.getresponse()
assert r.status == 200 and r.getheader("Content-Length") == "12"
assert r.read() == b""

body = bytes(range(256)) * 1000
c.request("POST", "/echo", body=body)
r = c.getresponse()
assert r.getheader("Transfer-Encoding") == "chunked"
assert r.read() == body

def gen():
    for i in range(50):
        yield (b"%d," % i) * (i + 1)

c.request("POST", "/count", body=gen(), encode_chunked=True,
          headers={"Transfer-Encoding": "chunked"})
r = c.getresponse()
data = b"".join(gen())
assert r.read().decode() == "%d %d" % (len(data), sum(data) % 2**32)

c.request("GET", "/chunks?300")
r = c.getresponse()
want = b"".join(bytes([97 + k % 26]) * ((k + 1) % 4096) for k in range(300))
assert r.read() == want
assert c.sock is sock, "the connection was not reused"
c.close()

# HTTP/1.0: answered, then closed by the server.
http.client.HTTPConnection._http_vsn = 10
http.client.HTTPConnection._http_vsn_str = "HTTP/1.0"
c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
c.request("GET", "/chunks?5")
r = c.getresponse()
assert r.version == 10 or r.version == 11
assert r.read() == b"abbcccddddeeeee"
assert r.will_close
c.close()
print("ok")
