/**
 * Remote models read by HTTP range requests, never downloaded whole. Universal: uses the global
 * `fetch` (Node 20 and browsers). `hf://owner/repo[@revision]/path` names a Hugging Face Hub file.
 */
import { ModelwiseError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { CachedSource, type ByteSource } from './source.js';
import { concatBytes } from './bytes.js';

export interface HttpOptions {
  /** Replacement for the global fetch (tests, proxies). */
  fetch?: typeof fetch;
  /** Extra request headers (e.g. Authorization for gated Hugging Face repos). */
  headers?: Record<string, string>;
  /** Base URL of the Hugging Face Hub (default https://huggingface.co; HF_ENDPOINT in the CLI). */
  hfEndpoint?: string;
  /** Hugging Face token (HF_TOKEN in the CLI). */
  hfToken?: string;
}

export function isRemote(path: string): boolean {
  return /^(https?|hf):\/\//i.test(path);
}

/** Resolve `hf://owner/repo[@rev]/path/in/repo` to its download URL. */
export function resolveHfUrl(url: string, endpoint = 'https://huggingface.co'): string {
  const m = /^hf:\/\/(?:(datasets|spaces)\/)?([^/@]+)\/([^/@]+)(?:@([^/]+))?\/(.+)$/i.exec(url);
  if (!m) {
    throw new ModelwiseError('USAGE', `not a Hugging Face file URL: ${url}`, {
      expected: 'hf://owner/repo[@revision]/path',
    });
  }
  const [, kind, owner, repo, rev, path] = m;
  const prefix = kind ? `${kind.toLowerCase()}/` : '';
  const revision = encodeURIComponent(decodeURIComponent(rev ?? 'main'));
  const file = path!.split('/').map(encodeURIComponent).join('/');
  return `${endpoint.replace(/\/+$/, '')}/${prefix}${owner}/${repo}/resolve/${revision}/${file}`;
}

class HttpRangeSource implements ByteSource {
  constructor(
    readonly name: string,
    private readonly url: string,
    readonly size: number,
    private readonly opts: HttpOptions,
    private readonly headers: Record<string, string>,
  ) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(offset, this.size);
    const end = Math.min(this.size, start + length);
    if (end <= start) return new Uint8Array(0);
    const f = this.opts.fetch ?? fetch;
    let res: Response;
    try {
      res = await f(this.url, { headers: { ...this.headers, Range: `bytes=${start}-${end - 1}` } });
    } catch (e) {
      throw new ModelwiseError('IO', `request failed: ${(e as Error).message}`, { file: this.name, offset: start, cause: e });
    }
    if (res.status !== 206) {
      await res.body?.cancel().catch(() => undefined);
      throw new ModelwiseError('IO', `server answered ${res.status} to a range request`, {
        file: this.name,
        offset: start,
        expected: '206 Partial Content',
      });
    }
    const buf = new Uint8Array(await res.arrayBuffer());
    if (buf.length !== end - start) {
      throw new ModelwiseError('IO', `server sent ${buf.length} bytes for a ${end - start}-byte range`, { file: this.name, offset: start });
    }
    return buf;
  }
}

/**
 * Open a remote file. The first request is a small range request whose Content-Range gives the
 * size; a server that ignores ranges is accepted only for bodies up to LIMITS.httpNoRangeBody.
 */
export async function openUrl(url: string, opts: HttpOptions = {}): Promise<ByteSource> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let target = url;
  if (/^hf:\/\//i.test(url)) {
    target = resolveHfUrl(url, opts.hfEndpoint);
    if (opts.hfToken) headers.Authorization = `Bearer ${opts.hfToken}`;
  }
  const f = opts.fetch ?? fetch;
  let res: Response;
  try {
    res = await f(target, { headers: { ...headers, Range: 'bytes=0-0' }, redirect: 'follow' });
  } catch (e) {
    throw new ModelwiseError('IO', `request failed: ${(e as Error).message}`, { file: url, cause: e });
  }
  if (res.status === 404) {
    await res.body?.cancel().catch(() => undefined);
    throw new ModelwiseError('NOT_FOUND', 'no such remote file (HTTP 404)', { file: url });
  }
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel().catch(() => undefined);
    throw new ModelwiseError('IO', `access denied (HTTP ${res.status}); a gated repository needs a token (HF_TOKEN)`, { file: url });
  }
  // After redirects (Hub → CDN) keep reading from the final URL.
  const finalUrl = res.url || target;
  if (res.status === 206) {
    const cr = res.headers.get('content-range') ?? '';
    await res.body?.cancel().catch(() => undefined);
    const m = /\/(\d+)\s*$/.exec(cr);
    if (!m) throw new ModelwiseError('IO', `range response without a total size (Content-Range: "${cr}")`, { file: url });
    const size = Number(m[1]);
    return new CachedSource(new HttpRangeSource(url, finalUrl, size, opts, headers), LIMITS.httpBlock);
  }
  if (res.status === 416) {
    // Range not satisfiable: an empty file.
    await res.body?.cancel().catch(() => undefined);
    return new CachedSource(new HttpRangeSource(url, finalUrl, 0, opts, headers), LIMITS.httpBlock);
  }
  if (res.status === 200) {
    // The server ignores Range: accept a small body, refuse to download a large one.
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > LIMITS.httpNoRangeBody) {
      await res.body?.cancel().catch(() => undefined);
      throw new ModelwiseError('UNSUPPORTED', `server does not support range requests and the file is ${declared} bytes; refusing to download it whole`, { file: url });
    }
    const body = await readCapped(res, LIMITS.httpNoRangeBody, url);
    const { BytesSource } = await import('./source.js');
    return new BytesSource(body, url);
  }
  await res.body?.cancel().catch(() => undefined);
  throw new ModelwiseError('IO', `HTTP ${res.status} ${res.statusText}`, { file: url });
}

async function readCapped(res: Response, cap: number, url: string): Promise<Uint8Array> {
  const reader = res.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > cap) {
      await reader.cancel().catch(() => undefined);
      throw new ModelwiseError('UNSUPPORTED', `server does not support range requests and the file exceeds ${cap} bytes`, { file: url });
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}
