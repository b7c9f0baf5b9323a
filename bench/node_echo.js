// TCP echo server on Node's net module, the peer for bench/tcp-echo.sh and
// bench/idle-mem.sh: socket.pipe(socket) (data -> write, with backpressure).
// Usage: node node_echo.js [port [host]]   (port 0, the default, picks one)
'use strict';
const net = require('net');

const port = Number(process.argv[2] || 0);
const host = process.argv[3] || '127.0.0.1';
const server = net.createServer((socket) => {
  socket.on('error', () => {}); // a reset peer is normal at the end of a run
  socket.pipe(socket);
});
server.listen(port, host, () => {
  const a = server.address();
  console.log(`listening on tcp://${a.address}:${a.port}`);
});
