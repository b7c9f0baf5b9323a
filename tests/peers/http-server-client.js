// The node `http` client against tests/tools/http_peer_server: a
// keep-alive agent (4 sockets) for 400 requests of several kinds, chunked
// response bodies read back exact, POST bodies echoed, request trailers,
// and few sockets reused for all of it. Prints "ok N SOCKETS" or fails.
const http = require('http');
const assert = require('assert');
const port = +process.argv[2];
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const sockets = new Set();

function req(opts, body, trailers) {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, agent, ...opts }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => resolve({ res, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    r.on('socket', (s) => sockets.add(s));
    r.on('error', reject);
    if (trailers) {
      r.setHeader('Transfer-Encoding', 'chunked');
      r.setHeader('Trailer', 'X-T');
      r.write(body);
      r.addTrailers(trailers);
      r.end();
    } else {
      r.end(body);
    }
  });
}

function expectedChunks(n) {
  let s = '';
  for (let k = 0; k < n; k++)
    s += String.fromCharCode(97 + (k % 26)).repeat((k + 1) % 4096);
  return s;
}

function pattern(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 8)) & 0xff;
  return b;
}

async function one(i) {
  switch (i % 4) {
    case 0: {
      const { res, body } = await req({ path: '/' });
      assert.strictEqual(res.statusCode, 200);
      assert.strictEqual(body.toString(), 'Hello World\n');
      assert.strictEqual(res.headers['content-length'], '12');
      break;
    }
    case 1: {
      const n = 1 + (i % 97);
      const { res, body } = await req({ path: '/chunks?' + n });
      assert.strictEqual(res.headers['transfer-encoding'], 'chunked');
      assert.strictEqual(body.toString(), expectedChunks(n));
      break;
    }
    case 2: {
      const data = Buffer.from(`payload ${i} `.repeat(1 + i));
      const { res, body } = await req({ path: '/echo', method: 'POST' }, data);
      assert.strictEqual(res.statusCode, 200);
      assert.ok(body.equals(data), `echo ${i}`);
      break;
    }
    case 3: {
      const n = 1000 * i + 7;
      const { body } = await req({ path: '/big?' + n });
      assert.ok(body.equals(pattern(n)), `big ${n}`);
      break;
    }
  }
}

(async () => {
  const all = [];
  for (let i = 0; i < 400; i++) all.push(one(i));
  await Promise.all(all);
  // Request trailers come back as response trailers.
  const { res, body } = await req({ path: '/echo', method: 'POST' }, 'with trailer', { 'X-T': 'tv' });
  assert.strictEqual(body.toString(), 'with trailer');
  assert.strictEqual(res.trailers['x-trailer-echo'], 'tv');
  assert.ok(sockets.size <= 4, `sockets used: ${sockets.size}`);
  console.log(`ok 401 ${sockets.size}`);
  agent.destroy();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
setTimeout(() => { console.error('timeout'); process.exit(2); }, 60000).unref();
