"""An HTTP/1.1 server for tests/peers/http-client-python.test.sh, on
python3's http.server: prints "listening on http://127.0.0.1:PORT/" (the
stock `python3 -m http.server` does not print the port it picked for
port 0) and one "req conn=N PATH TE LEN" line per request, N numbering the
connections. /close answers the HTTP/1.0 way: no length, the body ends at
the close. /chunked answers with a chunked body and a trailer. Bodies
sent chunked are decoded by hand (http.server does not)."""
import http.server
import itertools
import sys

counter = itertools.count()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.conn_id = next(counter)

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "") == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n)

    def answer(self):
        body = self.read_body()
        te = self.headers.get("Transfer-Encoding", "-")
        print(f"req conn={self.conn_id} {self.path} {te} {len(body)}", flush=True)
        if self.path == "/close":
            self.close_connection = True
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
            self.wfile.write(b"close-delimited body")
            return
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Sum")
            self.end_headers()
            for piece in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\nX-Sum: 42\r\n\r\n")
            return
        out = b"got %d" % len(body)
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = answer
    do_POST = answer
    do_PUT = answer


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"listening on http://127.0.0.1:{srv.server_address[1]}/", flush=True)
srv.serve_forever()
