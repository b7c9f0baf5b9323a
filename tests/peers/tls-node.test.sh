# wire's TLS against node's tls module, both ways, with certificates made
# by `wire cert`: a node client with a client certificate against
# examples/tls_server (authorized on both sides, welcome and echo), a node
# client without one (refused), and examples/tls_client against a node
# server with requestCert (authorized on both sides, data both ways).
. "$(dirname "$0")/lib.sh"
K=$TMP/keys
mkdir -p "$K"
"$WIRE" cert ca --out "$K/ca" >/dev/null
"$WIRE" cert server --ca "$K/ca" --san localhost --san 127.0.0.1 \
  --out "$K/server" >/dev/null
"$WIRE" cert client --ca "$K/ca" --cn alice --out "$K/client" >/dev/null

start srv "$EX/tls_server" 0 --keys "$K"

timeout 20 node - "$PORT" "$K" >"$TMP/n1.out" 2>"$TMP/n1.err" <<'JS' ||
const tls = require('tls');
const fs = require('fs');
const [port, k] = [Number(process.argv[2]), process.argv[3]];
const opts = (cert) => Object.assign({
  host: '127.0.0.1', port, servername: 'localhost',
  ca: [fs.readFileSync(k + '/ca.crt')],
}, cert ? { key: fs.readFileSync(k + '/client.key'),
            cert: fs.readFileSync(k + '/client.crt') } : {});
// With a certificate: the seed's exchange.
const s = tls.connect(opts(true), () => {
  console.log('authorized ' + s.authorized + ' ' + s.getProtocol());
  s.write('ping\n');
});
let got = '';
s.setEncoding('utf8');
s.on('data', (d) => {
  got += d;
  if (got === 'welcome!\nping\n') s.end();
});
s.on('close', () => {
  console.log('got ' + JSON.stringify(got));
  // Without one: refused by the server.
  const t = tls.connect(opts(false), () => t.write('x'));
  t.on('error', (e) => console.log('refused ' + e.code));
  t.on('close', () => console.log('closed'));
});
JS
  { cat "$TMP/n1.err" >&2; fail "node client"; }
expect_eq "node authorized wire" "authorized true TLSv1.3" \
  "$(grep '^authorized' "$TMP/n1.out")"
expect_eq "welcome and echo" 'got "welcome!\nping\n"' \
  "$(grep '^got' "$TMP/n1.out")"
expect_eq "no certificate: refused" "refused ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED" \
  "$(grep '^refused' "$TMP/n1.out")"
wait_for "$TMP/srv.out" 'server connected authorized'

# A node server (requestCert, rejectUnauthorized) and the wire client.
node - "$K" >"$TMP/ns.out" 2>"$TMP/ns.err" <<'JS' &
const tls = require('tls');
const fs = require('fs');
const k = process.argv[2];
const srv = tls.createServer({
  key: fs.readFileSync(k + '/server.key'),
  cert: fs.readFileSync(k + '/server.crt'),
  ca: [fs.readFileSync(k + '/ca.crt')],
  requestCert: true, rejectUnauthorized: true,
}, (s) => {
  console.log('server authorized ' + s.authorized + ' ' +
              s.getPeerCertificate().subject.CN + ' sni ' + s.servername);
  s.write('welcome!\n');
  s.setEncoding('utf8');
  s.on('data', (d) => console.log('server got ' + JSON.stringify(d)));
  s.on('end', () => { console.log('server end'); s.end(); srv.close(); });
});
srv.listen(0, '127.0.0.1', () =>
  console.log('listening on tls://127.0.0.1:' + srv.address().port));
JS
PIDS+=($!)
wait_listening "$TMP/ns.out" || fail "node server did not start"
(printf 'from-wire\n'; sleep 0.5) |
  timeout 10 "$EX/tls_client" localhost "$PORT" --keys "$K" \
    >"$TMP/c.out" 2>"$TMP/c.err" || { cat "$TMP/c.err" >&2; fail "client"; }
expect_eq "wire authorized node" "client connected authorized" \
  "$(head -1 "$TMP/c.out")"
grep -qx 'welcome!' "$TMP/c.out" || fail "no welcome from node"
wait_for "$TMP/ns.out" 'server end'
expect_eq "node authorized wire" "server authorized true alice sni localhost" \
  "$(grep '^server authorized' "$TMP/ns.out")"
expect_eq "node got the bytes" 'server got "from-wire\n"' \
  "$(grep '^server got' "$TMP/ns.out")"
