// The npm ws package as a client against wire's ws server (driven by
// tests/test-ws-node.c). Usage: node ws-node-client.js MODE URL. Checks
// everything itself: exits 0 when every check held, 1 with the reason on
// stderr otherwise.
const WebSocket = require('ws');
const [mode, url] = process.argv.slice(2);
const fail = (m) => { console.error('FAIL: ' + m); process.exit(1); };
setTimeout(() => fail('timed out in mode ' + mode), 50000).unref();
const eq = (what, a, b) => { if (a !== b) fail(`${what}: expected ${b}, got ${a}`); };

function pattern(n, seed) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed + (i >> 8)) & 0xff;
  return b;
}

if (mode === 'echo') {
  const ws = new WebSocket(url, ['chat', 'superchat'], { perMessageDeflate: false });
  const big = pattern(16 * 1024 * 1024, 7);
  const steps = [];
  ws.on('open', () => {
    eq('protocol', ws.protocol, 'chat');
    ws.send('hello');
    ws.send(Buffer.from([0, 1, 2, 255]));
    // A fragmented text message: three frames.
    ws.send('frag-', { fin: false });
    ws.send('men-', { fin: false });
    ws.send('ted', { fin: true });
    ws.send('héllo wörld ✓ 𝄞');
    ws.ping(Buffer.from('are you there'));
    ws.send(big);
  });
  ws.on('pong', (d) => { steps.push('pong:' + d.toString()); });
  ws.on('message', (data, isBinary) => {
    const n = steps.filter(s => s.startsWith('m')).length;
    if (n === 0) { eq('text', isBinary, false); eq('hello', data.toString(), 'hello'); }
    if (n === 1) { eq('binary', isBinary, true); eq('bytes', data.toString('hex'), '000102ff'); }
    if (n === 2) eq('fragmented', data.toString(), 'frag-men-ted');
    if (n === 3) eq('utf8', data.toString(), 'héllo wörld ✓ 𝄞');
    if (n === 4) {
      eq('big binary', isBinary, true);
      eq('big length', data.length, big.length);
      if (!data.equals(big)) fail('big message differs');
      if (!steps.includes('pong:are you there')) fail('no pong before the big echo');
      ws.close(4000, 'bye');
    }
    steps.push('m' + n);
  });
  ws.on('close', (code, reason) => {
    eq('close code', code, 4000);
    eq('close reason', reason.toString(), 'bye');
    eq('messages', steps.filter(s => s.startsWith('m')).length, 5);
    console.log('ok echo');
    process.exit(0);
  });
  ws.on('error', (e) => fail('error ' + e.message));
} else if (mode === 'deflate') {
  const ws = new WebSocket(url, { perMessageDeflate: true });
  const text = 'the quick brown fox jumps over the lazy dog. '.repeat(4000);
  const bin = pattern(300000, 3);
  let n = 0;
  ws.on('open', () => {
    if (!/permessage-deflate/.test(ws.extensions)) fail('extensions: ' + ws.extensions);
    ws.send(text);
    ws.send(bin);
    ws.send('short');
    ws.send('x'.repeat(5000), { compress: false });
  });
  ws.on('message', (data, isBinary) => {
    n++;
    if (n === 1) eq('deflated text', data.toString(), text);
    if (n === 2) { eq('deflated bin', isBinary, true); if (!data.equals(bin)) fail('bin differs'); }
    if (n === 3) eq('short', data.toString(), 'short');
    if (n === 4) { eq('uncompressed', data.toString(), 'x'.repeat(5000)); ws.send('close-me'); }
  });
  ws.on('close', (code, reason) => {
    eq('close code', code, 4001);
    eq('close reason', reason.toString(), 'server bye');
    eq('messages', n, 4);
    console.log('ok deflate');
    process.exit(0);
  });
  ws.on('error', (e) => fail('error ' + e.message));
} else if (mode === 'toobig') {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on('open', () => ws.send(Buffer.alloc(2000)));
  ws.on('message', () => fail('a message came back'));
  ws.on('close', (code) => { eq('close code', code, 1009); console.log('ok toobig'); process.exit(0); });
  ws.on('error', () => {});
} else if (mode === 'toobig-deflate') {
  // 1 MB of zeros compresses to about 1 KB: the server must stop inflating.
  const ws = new WebSocket(url, { perMessageDeflate: true });
  ws.on('open', () => ws.send(Buffer.alloc(1 << 20)));
  ws.on('message', () => fail('a message came back'));
  ws.on('close', (code) => { eq('close code', code, 1009); console.log('ok toobig-deflate'); process.exit(0); });
  ws.on('error', () => {});
} else if (mode === 'status') {
  // A handshake the server refuses: print the status.
  const ws = new WebSocket(url);
  ws.on('unexpected-response', (req, res) => { console.log('status ' + res.statusCode); process.exit(0); });
  ws.on('open', () => fail('opened'));
  ws.on('error', (e) => fail('error ' + e.message));
} else {
  fail('unknown mode ' + mode);
}
