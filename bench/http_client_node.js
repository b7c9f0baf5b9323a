// The node side of bench/http-client.sh: C keep-alive connections kept busy
// for a fixed time through one http.Agent({keepAlive: true, maxSockets: C}).
// Each of C workers issues a GET and, as soon as its response ends, the
// next one. After WARMUP seconds it takes the count and its own CPU time
// (utime+stime from /proc/self/stat, as the wire client does), again
// DURATION seconds later, then exits. Prints one line:
//
//   requests N seconds S cpu C errors E
//
// Usage: node http_client_node.js PORT CONNS DURATION WARMUP [HOST] [PATH]
'use strict';
const http = require('http');
const fs = require('fs');

const [port, conns, duration, warmup] = process.argv.slice(2, 6).map(Number);
const host = process.argv[6] || '127.0.0.1';
const path = process.argv[7] || '/';
const hz = 100; // USER_HZ: /proc reports ticks of 1/100 s on Linux
const agent = new http.Agent({ keepAlive: true, maxSockets: conns,
                               maxFreeSockets: conns });
let running = true, done = 0, errors = 0;

function cpu() {
  const s = fs.readFileSync('/proc/self/stat', 'latin1');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // f[0] is the state (field 3): utime is field 14, stime field 15.
  return (Number(f[11]) + Number(f[12])) / hz;
}

function issue() {
  const req = http.get({ host, port, path, agent }, (res) => {
    if (res.statusCode !== 200) errors++;
    res.resume();
    res.on('end', () => {
      done++;
      if (running) issue();
    });
  });
  req.on('error', () => {
    errors++;
    if (running) setImmediate(issue);
  });
}

for (let i = 0; i < conns; i++) issue();
setTimeout(() => {
  const t0 = process.hrtime.bigint(), c0 = cpu(), n0 = done;
  errors = 0;
  setTimeout(() => {
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = cpu() - c0;
    running = false;
    console.log(`requests ${done - n0} seconds ${secs.toFixed(3)} ` +
                `cpu ${c.toFixed(3)} errors ${errors}`);
    agent.destroy();
    process.exit(0);
  }, duration * 1000);
}, warmup * 1000);
