// Node's dgram UDP echo, for bench/udp-echo.sh. Prints
// "listening on udp://HOST:PORT".
// Usage: node udp_echo.js [PORT [HOST]]   (default 0 127.0.0.1)
const dgram = require('dgram');
const port = +(process.argv[2] || 0);
const host = process.argv[3] || '127.0.0.1';
const s = dgram.createSocket({type: 'udp4', recvBufferSize: 4 << 20,
                              sendBufferSize: 4 << 20});
s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
s.on('listening', () => {
  const a = s.address();
  console.log(`listening on udp://${a.address}:${a.port}`);
});
s.bind(port, host);
