# examples/udp_server against a node dgram client: the seed's line per
# message, with the client's address.
. "$(dirname "$0")/lib.sh"
start srv "$EX/udp_server" 0
timeout 10 node -e '
const dgram = require("dgram");
const c = dgram.createSocket("udp4");
c.bind(0, "127.0.0.1", () => {
  const port = c.address().port;
  c.send(Buffer.from("from node " + port), +process.argv[1], "127.0.0.1",
         (err) => { if (err) throw err; c.close(); });
});' "$PORT"
wait_for "$TMP/srv.out" 'server got: from node'
line=$(grep 'server got:' "$TMP/srv.out")
nport=$(echo "$line" | sed -E 's/server got: from node ([0-9]+) .*/\1/')
expect_eq "the seed's line" "server got: from node $nport from 127.0.0.1:$nport" "$line"
