#!/usr/bin/env bash
# Instructions per HTTPS keep-alive request, by callgrind, for wire
# (bench/tls_wire.c) and nginx (bench/tls_nginx.conf.in), split into
# OpenSSL's parts, wire's modules, libuv and libc. Instruction counts do
# not depend on the machine's load the way CPU time does, so this is the
# figure to judge a change of the TLS path by; bench/tls.sh confirms it in
# requests per server CPU-second.
#
# Each server runs under valgrind --tool=callgrind; wrk (1 thread, on
# CLIENT_CPU) keeps KA_CONNS connections busy for 34 s. The counters are
# zeroed at 12 s, dumped at 20 s (thrown away: the handshakes of slow
# starters may still run) and dumped again at 30 s: that last window is
# the one reported. Requests are the calls of tls_wire's request handler
# (of SSL_write for nginx, one per response). The report gives the
# SSL_do_handshake calls seen in the window, which must be 0 for ka (else
# run again).
# OpenSSL has no symbols for its internal functions here, so "crypto" is
# what libssl spends in the EVP cipher calls (AES-GCM and the EVP and
# provider glue around it: IV, tag, parameters), and the rest of OpenSSL
# is everything else it runs, the libc it calls included. With HS=1 the
# scenario is bench/tls.sh's hs (64 connections, Connection: close, full
# handshakes, --no-resume) and the figures are per handshake.
#
# Usage: bench/tls-profile.sh [BUILD_DIR]   (default build-bench; its
#        libwire.a; build it with -g in CMAKE_C_FLAGS to see wire's lines)
# Knobs: SERVERS="wire nginx", KEY=ecdsa|rsa2048, HS=, KA_CONNS=100,
#        CLIENT_CPU=1, NGINX=nginx, WRK=wrk, KEEP= (keep the callgrind
#        files, in a directory it prints)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
build=${1:-$root/build-bench}
case $build in /*) ;; *) build=$PWD/$build ;; esac
SERVERS=${SERVERS:-"wire nginx"}
KEY=${KEY:-ecdsa}
HS=${HS:-}
KA_CONNS=${KA_CONNS:-100}
CLIENT_CPU=${CLIENT_CPU:-1}
NGINX=${NGINX:-nginx}
WRK=${WRK:-wrk}
WIRE=${WIRE:-$build/wire}
[ -x "$WIRE" ] || WIRE=$root/build/wire
[ -f "$build/libwire.a" ] || { echo "no $build/libwire.a: build first" >&2; exit 1; }

tmp=$(mktemp -d)
chmod 755 "$tmp"
vpid=
cleanup() {
  if [ -n "$vpid" ]; then kill "$vpid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "# files kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# shellcheck disable=SC2046 # the flags are meant to split into words
cc -O2 -g -I"$root/include" "$root/bench/tls_wire.c" "$build/libwire.a" \
  $(pkg-config --libs libuv libssl libcrypto zlib) -lpthread -o "$tmp/tls_wire"
case $KEY in
  ecdsa) bits=() ;;
  rsa*) bits=(--rsa "${KEY#rsa}") ;;
esac
"$WIRE" cert ca "${bits[@]}" --out "$tmp/ca" >/dev/null
"$WIRE" cert server "${bits[@]}" --ca "$tmp/ca" --san 127.0.0.1 \
  --out "$tmp/server" >/dev/null
chmod 644 "$tmp/server.key"

if [ -n "$HS" ]; then
  args=(-c 64 -H 'Connection: close')
else
  args=(-c "$KA_CONNS")
fi

# profile NAME: leaves $tmp/NAME.cg.2
profile() {
  local name=$1 d=$tmp/$1 port=
  mkdir -p "$d"
  chmod 755 "$d"
  local cg=(valgrind --tool=callgrind "--callgrind-out-file=$tmp/$name.cg")
  case $name in
    wire)
      "${cg[@]}" "$tmp/tls_wire" 0 "$tmp/server.crt" "$tmp/server.key" \
        ${HS:+--no-resume} >"$d/out" 2>"$d/vg" &
      vpid=$!
      port=$(listen_port "$d/out" 100 0.2) ;;
    nginx)
      port=$(free_port)
      sed -e "s|@DIR@|$d|g" -e "s|@PORT@|$port|g" \
        -e "s|@CERT@|$tmp/server.crt|g" -e "s|@KEY@|$tmp/server.key|g" \
        "$root/bench/tls_nginx.conf.in" >"$d/nginx.conf"
      "${cg[@]}" "$NGINX" -c "$d/nginx.conf" -p "$d" \
        -g 'daemon off; master_process off;' >"$d/out" 2>"$d/vg" &
      vpid=$! ;;
  esac
  for _ in $(seq 100); do
    curl -sk --max-time 2 "https://127.0.0.1:$port/" >/dev/null && break
    sleep 0.3
  done
  taskset -c "$CLIENT_CPU" "$WRK" -t 1 "${args[@]}" -d 34s \
    "https://127.0.0.1:$port/" >"$d/wrk" &
  local wpid=$!
  sleep 12
  callgrind_control -z "$vpid" >/dev/null 2>&1
  sleep 8
  callgrind_control -d "$vpid" >/dev/null 2>&1
  sleep 10
  callgrind_control -d "$vpid" >/dev/null 2>&1
  wait "$wpid"
  kill "$vpid"
  wait "$vpid" 2>/dev/null || true
  vpid=
}

if [ -n "$HS" ]; then
  scenario="hs: 64 connections with Connection: close"
else
  scenario="ka: $KA_CONNS connections"
fi
echo "# tls-profile: $(date -u '+%Y-%m-%d %H:%M UTC'), key $KEY, $scenario," \
     "load $(cut -d' ' -f1-3 /proc/loadavg)"
for s in $SERVERS; do
  profile "$s"
  python3 - "$tmp/$s.cg.2" "$s" <<'PY'
import collections, os, re, sys
path, server = sys.argv[1], sys.argv[2]
names = {'ob': {}, 'fl': {}, 'fn': {}}
def name(kind, v):
    m = re.match(r'\((\d+)\)(?: (.*))?', v)
    if not m:
        return v
    if m.group(2) is not None:
        names[kind][m.group(1)] = m.group(2)
    return names[kind].get(m.group(1), '?')
excl = collections.Counter()    # (object, file, function) -> Ir
calls = collections.Counter()   # (object, function) -> calls
edges = collections.Counter()   # (caller object, callee object, callee) -> Ir
ob = fl = fn = cob = cfn = None
pending = None
for line in open(path):
    if not line.strip() or line[0] == '#':
        continue
    if line[0].isdigit() or line[0] in '+-*':
        parts = line.split()
        if len(parts) < 2:
            continue
        if pending is not None:
            edges[(ob, pending[0], pending[1])] += int(parts[1])
            pending = None
        else:
            excl[(ob, fl, fn)] += int(parts[1])
        continue
    k, _, v = line.rstrip('\n').partition('=')
    if k == 'ob':
        ob = os.path.basename(name('ob', v))
    elif k in ('fl', 'fi', 'fe'):
        fl = name('fl', v)
    elif k == 'fn':
        fn = name('fn', v)
    elif k in ('cfi', 'cfl'):
        name('fl', v)  # defines the id for later fl= lines
    elif k == 'cob':
        cob = os.path.basename(name('ob', v))
    elif k == 'cfn':
        cfn = name('fn', v)
    elif k == 'calls':
        pending = (cob or ob, cfn)
        calls[pending] += int(v.split()[0])
        cob = None
def ncalls(f):
    return sum(n for (o, g), n in calls.items() if g == f)
req = ncalls('on_request') or ncalls('SSL_write')
hs = ncalls('SSL_do_handshake') + ncalls('ngx_ssl_handshake')
total = sum(excl.values())
SSL = ('libssl.so.3', 'libcrypto.so.3', '???')  # ??? : PLT stubs
def edge(caller, callee):
    return sum(c for (a, b, f), c in edges.items() if caller(a) and callee(b, f))
crypto = edge(lambda a: a == 'libssl.so.3',
              lambda b, f: b == 'libcrypto.so.3' and re.match(
                  r'EVP_(Cipher|Encrypt|Decrypt|CIPHER_CTX_(ctrl|get))', f))
gcm = edge(lambda a: a == 'libcrypto.so.3',
           lambda b, f: f.startswith('CRYPTO_gcm128'))
err = edge(lambda a: a not in SSL, lambda b, f: f.startswith('ERR_'))
libc_ssl = edge(lambda a: a in SSL, lambda b, f: b == 'libc.so.6')
byob = collections.Counter()
byfile = collections.Counter()
for (o, f, _), c in excl.items():
    byob[o] += c
    byfile[f or '?'] += c
ossl = sum(byob[o] for o in SSL) + libc_ssl
def files(*pats):
    return sum(c for f, c in byfile.items() if any(p in f for p in pats))
unit = 'handshake' if hs > req / 2 else 'request'
print(f'{server}: {req:,} requests, {total / req:,.0f} Ir per {unit}'
      f' (handshakes in the window: {hs})')
rows = [
    ('OpenSSL, all', ossl),
    ('  crypto: EVP cipher calls of the record layer', crypto),
    ('    of which the AES-GCM core (CRYPTO_gcm128_*)', gcm),
    ('  ERR_* calls of the server', err),
    ('  the rest: record layer, BIO, malloc/free, libc', ossl - crypto - err),
]
if server == 'wire':
    rows += [
        ('wire src/tls', files('src/tls/')),
        ('wire src/http and the handler', files('src/http/', 'bench/')),
        ('wire src/stream, src/net, src/core',
         files('src/stream/', 'src/net/', 'src/core/', 'emmintrin')),
    ]
else:
    rows.append(('nginx', byob['nginx']))
rows += [
    ('libuv', sum(c for o, c in byob.items() if o.startswith('libuv'))),
    ('libc, not for OpenSSL', byob['libc.so.6'] - libc_ssl),
]
for label, v in rows:
    print(f'  {v / req:9,.0f}  {label}')
PY
done
