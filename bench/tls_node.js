// The node HTTPS server of bench/tls.sh: 200 and "Hello, World\n" as
// text/plain. Usage: node tls_node.js PORT CERT KEY
const https = require("https");
const fs = require("fs");
const [port, cert, key] = process.argv.slice(2);
const srv = https.createServer(
  { cert: fs.readFileSync(cert), key: fs.readFileSync(key),
    keepAliveTimeout: 75000 },
  (req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end("Hello, World\n");
  });
srv.listen(+port, "127.0.0.1", () => {
  console.log("listening on https://127.0.0.1:" + srv.address().port + "/");
});
