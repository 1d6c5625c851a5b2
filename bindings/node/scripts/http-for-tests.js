'use strict';
// Test support (outside test/ so that `node --test` does not run it): a
// node:http server on a free 127.0.0.1 port and a small request helper that
// opens one connection per request (no keep-alive pool left behind).
const http = require('node:http');

/** Starts `handler` on 127.0.0.1:0; resolves to { url, close() }. */
function serve(handler) {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler);
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise((r) => server.close(() => r())),
        server,
      });
    });
  });
}

/** One request: resolves to { status, headers, body (Buffer), text }. */
function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, body: buf, text: buf.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

module.exports = { serve, request };
