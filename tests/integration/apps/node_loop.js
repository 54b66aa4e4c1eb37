/* A Node.js service that calls the backend after a wait, with http.get and
 * with fetch, while other requests wait on the same loop.
 *
 * GET /call?id=N&delay=MS -> after MS ms: GET backend /get?id=N (http.get),
 *                            then GET backend /fetch?id=N (fetch); 200
 * GET /late?id=N          -> 200 at once; then GET backend /late?id=N
 * GET /env                -> 200, NODE_OPTIONS as the program sees it
 *
 * usage: node node_loop.js PORT_FILE BACKEND_PORT
 */
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const { setTimeout: sleep } = require('node:timers/promises');

const [portFile, backendPort] = process.argv.slice(2);
const backend = (path) => `http://127.0.0.1:${backendPort}${path}`;

function get(url) {
    return new Promise((resolve, reject) => {
        http.get(url, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
        }).on('error', reject);
    });
}

async function call(id, delay) {
    await sleep(delay);
    await get(backend(`/get?id=${id}`));
    const r = await fetch(backend(`/fetch?id=${id}`));
    await r.text();
}

const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const id = url.searchParams.get('id');

    try {
        if (url.pathname === '/call') {
            await call(id, Number(url.searchParams.get('delay')));
        } else if (url.pathname === '/late') {
            res.end('ok');
            await sleep(100);
            await get(backend(`/late?id=${id}`));
            return;
        } else if (url.pathname === '/env') {
            res.end(JSON.stringify(process.env.NODE_OPTIONS === undefined ? null
                                   : process.env.NODE_OPTIONS));
            return;
        }
        res.end('ok');
    } catch (e) {
        res.statusCode = 502;
        res.end(String(e));
    }
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => {
    fs.writeFileSync(portFile + '.tmp', String(server.address().port));
    fs.renameSync(portFile + '.tmp', portFile);
});
