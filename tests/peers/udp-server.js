// A node dgram server for the peer tests: prints "listening on
// udp://HOST:PORT", then "got: MSG from ADDR:PORT" per datagram, and with
// "echo" as the third argument sends each datagram back.
const dgram = require('dgram');
const [type = 'udp4', host = '127.0.0.1', mode = ''] = process.argv.slice(2);
const s = dgram.createSocket(type);
s.on('message', (msg, rinfo) => {
  console.log(`got: ${msg} from ${rinfo.address}:${rinfo.port}`);
  if (mode === 'echo') s.send(msg, rinfo.port, rinfo.address);
});
s.on('listening', () => {
  const a = s.address();
  const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  console.log(`listening on udp://${h}:${a.port}`);
});
s.bind(0, host);
