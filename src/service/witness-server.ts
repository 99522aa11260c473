/**
 * The witness's HTTP face (c2sp.org/tlog-witness): POST /add-checkpoint, plus GET / for the
 * witness's verifier key (what a policy names). node:http, keep-alive, bodies up to 64 KiB.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Witness } from './witness.js';

const MAX_BODY = 64 << 10;

export async function startWitnessServer(
  witness: Witness,
  opts: { host?: string; port?: number } = {},
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/') return send(200, 'text/plain; charset=utf-8', `${witness.cosigner.vkey}\n`);
    if (path !== '/add-checkpoint') return send(404, 'text/plain; charset=utf-8', 'not found\n');
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return send(405, 'text/plain; charset=utf-8', 'POST only\n');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        send(413, 'text/plain; charset=utf-8', `body over ${MAX_BODY} bytes\n`);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return;
      witness.addCheckpoint(Buffer.concat(chunks).toString('utf8')).then(
        (a) => send(a.status, a.contentType, a.body),
        (e: Error) => send(500, 'text/plain; charset=utf-8', `witness error: ${e.message}\n`),
      );
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${host}:${a.port}`,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
