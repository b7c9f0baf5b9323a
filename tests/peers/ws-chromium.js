// Drives headless Chromium over the DevTools protocol (with the npm ws
// package, no other dependency) for tests/peers/ws-chromium.test.sh:
// starts it on URL, waits until the page's #out element holds a line
// "RESULT-END" or starts with "FAILED" (the page writes its results
// there), prints that text and exits 0; exits 1 after TIMEOUT_MS.
// --dump-dom is not enough: it does not wait for WebSocket traffic.
// Usage: node ws-chromium.js CHROMIUM USER_DATA_DIR URL [TIMEOUT_MS]
const { spawn } = require('child_process');
const WebSocket = require('ws');
const [chromium, userData, url, timeoutArg] = process.argv.slice(2);
const deadline = Date.now() + Number(timeoutArg || 30000);

const child = spawn(chromium, [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-extensions',
  '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0',
  '--user-data-dir=' + userData, 'about:blank',
  // Its own process group: Chromium forks a zygote and renderers that
  // outlive a kill of the main process and keep writing into userData.
], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
let done = false;
function finish(code, text) {
  if (done) return;
  done = true;
  if (text) console.log(text);
  child.removeAllListeners('exit');
  try {
    process.kill(-child.pid, 'SIGKILL'); // the whole group
  } catch (e) {
    // already gone
  }
  // Exit once the main process is reaped; the group got SIGKILL with it.
  const bye = () => process.exit(code);
  if (child.exitCode !== null || child.signalCode !== null)
    bye();
  else
    child.on('exit', bye);
  setTimeout(bye, 3000).unref();
}
setTimeout(() => finish(1, 'TIMEOUT waiting for the page'),
           Math.max(0, deadline - Date.now()));
child.on('exit', (c) => finish(1, 'chromium exited ' + c));

let err = '';
child.stderr.on('data', (d) => {
  err += d;
  const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
  if (m && !child.cdp) {
    child.cdp = true;
    drive(m[1]);
  }
});

function drive(browserUrl) {
  const ws = new WebSocket(browserUrl, { perMessageDeflate: false });
  let id = 0;
  const pending = new Map();
  const call = (method, params, sessionId) => new Promise((res, rej) => {
    const msg = { id: ++id, method, params: params || {} };
    if (sessionId) msg.sessionId = sessionId;
    pending.set(msg.id, { res, rej });
    ws.send(JSON.stringify(msg));
  });
  ws.on('message', (data) => {
    const m = JSON.parse(data);
    const p = m.id && pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    m.error ? p.rej(new Error(m.error.message)) : p.res(m.result);
  });
  ws.on('error', (e) => finish(1, 'devtools: ' + e.message));
  ws.on('open', async () => {
    try {
      const { targetId } = await call('Target.createTarget', { url });
      const { sessionId } = await call('Target.attachToTarget',
                                       { targetId, flatten: true });
      for (;;) {
        const r = await call('Runtime.evaluate', {
          expression: "(document.getElementById('out') || {}).textContent || ''",
          returnByValue: true,
        }, sessionId);
        const text = String(r.result.value || '');
        if (text.includes('RESULT-END')) return finish(0, text);
        if (text.startsWith('FAILED')) return finish(1, text);
        await new Promise((res) => setTimeout(res, 100));
      }
    } catch (e) {
      finish(1, 'devtools: ' + e.message);
    }
  });
}
