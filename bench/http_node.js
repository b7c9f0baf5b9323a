// The node side of bench/http.sh and bench/http-idle-mem.sh: http's
// server answering every request 200 with the 13-byte body
// "Hello, World\n" as text/plain.
// Usage: node bench/http_node.js [PORT [KEEP_ALIVE_MS]]
'use strict';
const http = require('http');

const port = Number(process.argv[2] || 0);
const body = 'Hello, World\n';
const server = http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end(body);
});
if (process.argv[3]) {
  const ms = Number(process.argv[3]);
  server.keepAliveTimeout = ms;
  server.headersTimeout = ms + 1000;
  server.requestTimeout = 0;
}
server.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/`);
});
