// A plain Node.js http service that calls the backend with a keep-alive
// agent (libuv's read/write/writev under the hood).
// usage: node node_front.js PORT_FILE BACKEND_PORT
const fs = require('fs');
const http = require('http');

const [portFile, backend] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

const server = http.createServer((req, res) => {
  http.get({ host: '127.0.0.1', port: Number(backend), path: '/inventory?via=node', agent }, (up) => {
    const chunks = [];
    up.on('data', (c) => chunks.push(c));
    up.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(up.statusCode, { 'Content-Type': 'application/json', 'Content-Length': body.length });
      res.end(body);
    });
  }).on('error', () => { res.writeHead(502); res.end(); });
});
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile + '.tmp', String(server.address().port));
  fs.renameSync(portFile + '.tmp', portFile);
});
