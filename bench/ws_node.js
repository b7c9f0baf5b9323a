// The node side of bench/ws.sh: the npm ws package (tests/peers/
// node_modules) as an echo server on an http server, without
// permessage-deflate, sending every message back with its type.
// Usage: node ws_node.js [PORT]   (prints "listening on http://127.0.0.1:PORT/")
const path = require('path');
const http = require('http');
const { WebSocketServer } = require(path.join(__dirname, '..', 'tests',
  'peers', 'node_modules', 'ws'));
const server = http.createServer((req, res) => { res.writeHead(426); res.end(); });
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  console.log('listening on http://127.0.0.1:' + server.address().port + '/');
});
