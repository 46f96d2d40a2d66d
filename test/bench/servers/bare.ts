// Baselines for the tRPC transport: a bare node:http handler and a bare express route that
// answer the same JSON, byte for byte, as the service's `system.ping` procedure.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { serveCommands } from '../lib/child';

const kind = process.env.BENCH_BARE_KIND === 'express' ? 'express' : 'node';
const body = JSON.stringify({ result: { data: { json: { status: 'ok' } } } });

const server =
  kind === 'express'
    ? (() => {
        const app = express();
        app.disable('x-powered-by');
        app.disable('etag');
        app.get('/trpc/system.ping', (_req, res) => {
          res.type('application/json').send(body);
        });
        return createServer(app);
      })()
    : createServer((req, res) => {
        if (req.method === 'GET' && req.url === '/trpc/system.ping') {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          res.end(body);
          return;
        }
        res.writeHead(404).end();
      });

server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => {
  serveCommands({ port: (server.address() as AddressInfo).port, kind }, {});
});
