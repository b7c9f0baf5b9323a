// The npm ws package as a server for wire's ws client (driven by
// tests/test-ws-client.c). Usage: node ws-node-server.js [deflate]
// Echoes every message (same type); "close-me" makes it close with 4002
// "node bye"; "headers" makes it send back the request's x-test header
// and origin; /404 answers 404 with x-why: test; a close from the client
// is printed as "closed CODE REASON" on stdout. Prints "listening on ..."
// with the real port.
const http = require('http');
const { WebSocketServer } = require('ws');
const deflate = process.argv[2] === 'deflate';
const server = http.createServer((req, res) => { res.writeHead(404, { 'x-why': 'test' }); res.end('no'); });
const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: deflate ? { threshold: 0 } : false,
  maxPayload: 1000000,
  handleProtocols: (protos) => (protos.has('superchat') ? 'superchat' : false),
});
server.on('upgrade', (req, socket, head) => {
  if (req.url === '/404') {
    socket.end('HTTP/1.1 404 Not Found\r\nx-why: test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});
wss.on('connection', (ws, req) => {
  ws.on('message', (data, isBinary) => {
    if (!isBinary && data.toString() === 'close-me') return ws.close(4002, 'node bye');
    if (!isBinary && data.toString() === 'headers')
      return ws.send(`${req.headers['x-test']} ${req.headers.origin} ${ws.extensions ? 'pmd' : 'plain'}`);
    ws.send(data, { binary: isBinary });
  });
  ws.on('ping', (d) => console.log('ping ' + d.toString()));
  ws.on('close', (code, reason) => console.log(`closed ${code} ${reason}`));
});
server.listen(0, '127.0.0.1', () => console.log('listening on ws://127.0.0.1:' + server.address().port + '/'));
process.on('SIGTERM', () => process.exit(0));
