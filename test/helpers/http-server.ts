/**
 * A loopback HTTP server for tests: serves a folder with Range support, records every request
 * (so tests can prove only ranges were fetched), and can emulate the Hugging Face resolve route.
 */
import { createServer, type Server } from 'node:http';
import { open, stat } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface ServedRequest {
  url: string;
  range?: string;
  bytes: number;
  /** HTTP status answered. */
  status?: number;
  /** The Authorization header, when one was sent. */
  authorization?: string;
}

export interface TestServer {
  url: string;
  requests: ServedRequest[];
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Ignore Range headers and always answer 200 with the whole file (servers that do not do ranges). */
  noRange?: boolean;
  /** With noRange: send the body chunked, without Content-Length. */
  noLength?: boolean;
}

export async function serveFolder(root: string, opts: ServeOptions = {}): Promise<TestServer> {
  const requests: ServedRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    let rel = decodeURIComponent(u.pathname);
    const range = req.headers.range;
    const authorization = req.headers.authorization;
    const record = (r: ServedRequest) => requests.push({ ...r, ...(authorization ? { authorization } : {}) });
    // Hugging Face style: /[datasets/|spaces/]owner/repo/resolve/rev/path → redirect to /files/path
    // (like the Hub → CDN hop). The URL is matched before decoding so a revision like refs%2Fpr%2F1 stays one segment.
    const hf = /^\/(?:(?:datasets|spaces)\/)?([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(u.pathname);
    if (hf) {
      res.writeHead(302, { Location: `/files/${hf[4]}` });
      res.end();
      record({ url: rel, ...(range ? { range } : {}), bytes: 0, status: 302 });
      return;
    }
    if (rel.startsWith('/files/')) rel = rel.slice('/files'.length);
    const path = normalize(join(root, rel));
    if (!path.startsWith(normalize(root))) {
      res.writeHead(403).end();
      record({ url: rel, ...(range ? { range } : {}), bytes: 0, status: 403 });
      return;
    }
    const st = await stat(path).catch(() => undefined);
    if (!st || !st.isFile()) {
      res.writeHead(404).end('not found');
      record({ url: rel, ...(range ? { range } : {}), bytes: 0, status: 404 });
      return;
    }
    const m = range && !opts.noRange ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    const fh = await open(path, 'r');
    try {
      if (m) {
        const start = Number(m[1]);
        const end = Math.min(st.size - 1, m[2] ? Number(m[2]) : st.size - 1);
        if (start >= st.size) {
          res.writeHead(416, { 'Content-Range': `bytes */${st.size}` }).end();
          record({ url: rel, range, bytes: 0, status: 416 });
          return;
        }
        const buf = Buffer.alloc(end - start + 1);
        await fh.read(buf, 0, buf.length, start);
        res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${st.size}`, 'Content-Length': String(buf.length), 'Accept-Ranges': 'bytes' });
        res.end(buf);
        record({ url: rel, range, bytes: buf.length, status: 206 });
      } else {
        const buf = Buffer.alloc(st.size);
        await fh.read(buf, 0, buf.length, 0);
        if (opts.noLength) {
          res.writeHead(200, { 'Transfer-Encoding': 'chunked' });
          for (let p = 0; p < buf.length; p += 64 * 1024) res.write(buf.subarray(p, p + 64 * 1024));
          res.end();
        } else {
          res.writeHead(200, { 'Content-Length': String(buf.length) });
          res.end(buf);
        }
        record({ url: rel, ...(range ? { range } : {}), bytes: buf.length, status: 200 });
      }
    } finally {
      await fh.close();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections?.();
      server.close(() => r());
    }),
  };
}
