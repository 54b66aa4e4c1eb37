// peer_server.js - the Node.js `http` server of workload (j): answers every
// request with "ok", nothing else. usage: node peer_server.js PORT_FILE
const fs = require('fs');
const http = require('http');

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('ok\n');
});
server.keepAliveTimeout = 0;
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(process.argv[2] + '.tmp', String(server.address().port));
  fs.renameSync(process.argv[2] + '.tmp', process.argv[2]);
});
process.on('SIGTERM', () => process.exit(0));
