/**
 * Remote models over HTTP range requests, against a loopback server (test/helpers/http-server.ts):
 * only ranges are fetched, hf:// URLs resolve through the endpoint and its redirect, 404 and
 * range-less servers fail with stable codes.
 */
import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identify } from '../src/node/index.js';
import { openUrl, resolveHfUrl, isRemote } from '../src/io/http.js';
import { ModelwiseError } from '../src/errors.js';
import { LIMITS } from '../src/limits.js';
import { serveFolder, type TestServer } from './helpers/http-server.js';

const MiB = 1024 * 1024;

/** Little-endian writer for the GGUF header. */
class W {
  private parts: Uint8Array[] = [];
  private push(n: number, f: (dv: DataView) => void): this {
    const b = new Uint8Array(n);
    f(new DataView(b.buffer));
    this.parts.push(b);
    return this;
  }
  u32(v: number) {
    return this.push(4, (d) => d.setUint32(0, v, true));
  }
  u64(v: number) {
    return this.push(8, (d) => d.setBigUint64(0, BigInt(v), true));
  }
  str(s: string) {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.parts.push(b);
    return this;
  }
  raw(b: Uint8Array) {
    this.parts.push(b);
    return this;
  }
  build(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/**
 * A GGUF v3 file (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): header, three
 * metadata keys, `tensors` f32 tensor infos, then the aligned data section filled up to `size`.
 */
function makeGguf(size: number, tensors = 8): Uint8Array {
  const w = new W().raw(new TextEncoder().encode('GGUF')).u32(3).u64(tensors).u64(3);
  w.str('general.architecture').u32(8).str('llama');
  w.str('general.name').u32(8).str('http-test');
  w.str('general.alignment').u32(4).u32(32);
  const dataBytes = Math.max(0, size - 4096);
  const per = Math.floor(dataBytes / tensors / 4 / 32) * 32; // elements per tensor
  for (let i = 0; i < tensors; i++) w.str(`blk.${i}.weight`).u32(1).u64(per).u32(0).u64(i * per * 4);
  const head = w.build();
  const out = new Uint8Array(Math.max(size, head.length));
  out.set(head);
  for (let i = head.length; i < out.length; i += 4093) out[i] = i & 0xff; // not all zeros
  return out;
}

function isCode(code: string) {
  return (e: unknown) => e instanceof ModelwiseError && e.code === code;
}

describe('http: range requests', () => {
  let root: string;
  let server: TestServer;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'modelwise-http-'));
    await writeFile(join(root, 'big.gguf'), makeGguf(9 * MiB));
    await writeFile(join(root, 'small.gguf'), makeGguf(64 * 1024, 2));
    const noise = new Uint8Array(8 * MiB + 123);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    await writeFile(join(root, 'noise.bin'), noise);
    await writeFile(join(root, 'empty.bin'), new Uint8Array(0));
    await writeFile(join(root, 'name with space.gguf'), makeGguf(4096, 1));
    server = await serveFolder(root);
  });
  after(async () => {
    await server?.close();
    await rm(root, { recursive: true, force: true });
  });
  beforeEach(() => {
    server.requests.length = 0;
  });

  it('identifies a 9 MiB GGUF by reading ranges only, well under 1 MiB', async () => {
    const r = await identify(`${server.url}/big.gguf`);
    assert.equal(r.format?.id, 'gguf', r.reason);
    assert.equal(r.source, 'url');
    assert.equal(r.size, 9 * MiB);
    assert.ok(server.requests.length > 0);
    for (const q of server.requests) {
      assert.ok(q.range, `request without Range: ${JSON.stringify(q)}`);
      assert.equal(q.status, 206);
    }
    const served = server.requests.reduce((s, q) => s + q.bytes, 0);
    assert.ok(served < 1 * MiB, `served ${served} bytes`);
  });
  it('a file that is not a model is also judged from a few ranges', async () => {
    const r = await identify(`${server.url}/noise.bin`);
    assert.equal(r.format, null);
    assert.equal(r.error, undefined);
    for (const q of server.requests) assert.ok(q.range);
    const served = server.requests.reduce((s, q) => s + q.bytes, 0);
    assert.ok(served < 1 * MiB, `served ${served} bytes`);
  });
  it('openUrl reports the size from Content-Range and reads any range', async () => {
    const s = await openUrl(`${server.url}/big.gguf`);
    assert.equal(s.size, 9 * MiB);
    const head = await s.read(0, 4);
    assert.equal(new TextDecoder().decode(head), 'GGUF');
    const end = await s.read(9 * MiB - 10, 100);
    assert.equal(end.length, 10);
    assert.equal((await s.read(9 * MiB, 10)).length, 0);
    // Reads crossing a cache block.
    const across = await s.read(LIMITS.httpBlock - 5, 10);
    assert.equal(across.length, 10);
  });
  it('an empty remote file is identified as empty', async () => {
    const r = await identify(`${server.url}/empty.bin`);
    assert.equal(r.format, null);
    assert.equal(r.notModel, 'empty');
  });
  it('percent-encoded names work', async () => {
    const r = await identify(`${server.url}/name%20with%20space.gguf`);
    assert.equal(r.format?.id, 'gguf', r.reason);
  });
  it('404 gives NOT_FOUND', async () => {
    const r = await identify(`${server.url}/missing.gguf`);
    assert.equal(r.format, null);
    assert.equal(r.error?.code, 'NOT_FOUND');
    await assert.rejects(openUrl(`${server.url}/missing.gguf`), isCode('NOT_FOUND'));
  });
  it('an unreachable server gives IO', async () => {
    // A port that was just closed on loopback: connection refused.
    const s = await serveFolder(root);
    const url = s.url;
    await s.close();
    const r = await identify(`${url}/big.gguf`);
    assert.equal(r.error?.code, 'IO');
  });
});

describe('http: hf:// URLs', () => {
  let root: string;
  let server: TestServer;
  const savedEnv = process.env.HF_ENDPOINT;
  const savedToken = process.env.HF_TOKEN;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'modelwise-hf-'));
    await writeFile(join(root, 'model-q4.gguf'), makeGguf(9 * MiB));
    server = await serveFolder(root);
    delete process.env.HF_TOKEN;
  });
  after(async () => {
    await server?.close();
    await rm(root, { recursive: true, force: true });
    if (savedEnv === undefined) delete process.env.HF_ENDPOINT;
    else process.env.HF_ENDPOINT = savedEnv;
    if (savedToken !== undefined) process.env.HF_TOKEN = savedToken;
  });
  beforeEach(() => {
    server.requests.length = 0;
  });

  function assertResolved(expectedResolve: string): void {
    const redirect = server.requests.find((q) => q.status === 302);
    assert.ok(redirect, `no redirect among ${JSON.stringify(server.requests)}`);
    assert.equal(redirect.url, expectedResolve);
    for (const q of server.requests) assert.ok(q.range, `request without Range: ${JSON.stringify(q)}`);
    const data = server.requests.filter((q) => q.status === 206);
    assert.ok(data.length > 0);
    for (const q of data) assert.equal(q.url, '/model-q4.gguf');
    assert.ok(server.requests.reduce((s, q) => s + q.bytes, 0) < 1 * MiB);
  }

  it('hf://owner/repo/path resolves through hfEndpoint and follows the redirect', async () => {
    const r = await identify('hf://acme/tiny/model-q4.gguf', { hfEndpoint: server.url });
    assert.equal(r.format?.id, 'gguf', r.reason);
    assert.equal(r.path, 'hf://acme/tiny/model-q4.gguf');
    assert.equal(r.source, 'url');
    assertResolved('/acme/tiny/resolve/main/model-q4.gguf');
  });
  it('hf://owner/repo@rev/path resolves that revision', async () => {
    const r = await identify('hf://acme/tiny@v1.2/model-q4.gguf', { hfEndpoint: server.url });
    assert.equal(r.format?.id, 'gguf', r.reason);
    assertResolved('/acme/tiny/resolve/v1.2/model-q4.gguf');
  });
  it('a revision with slashes is sent as one encoded segment', async () => {
    const r = await identify('hf://acme/tiny@refs%2Fpr%2F3/model-q4.gguf', { hfEndpoint: `${server.url}/` });
    assert.equal(r.format?.id, 'gguf', r.reason);
    assertResolved('/acme/tiny/resolve/refs/pr/3/model-q4.gguf'); // as the server decodes it
  });
  it('HF_ENDPOINT from the environment is used when no option is given', async () => {
    process.env.HF_ENDPOINT = server.url;
    try {
      const r = await identify('hf://acme/tiny/model-q4.gguf');
      assert.equal(r.format?.id, 'gguf', r.reason);
      assertResolved('/acme/tiny/resolve/main/model-q4.gguf');
    } finally {
      delete process.env.HF_ENDPOINT;
    }
  });
  it('a token is sent as a Bearer Authorization header', async () => {
    const r = await identify('hf://acme/tiny/model-q4.gguf', { hfEndpoint: server.url, hfToken: 'hf_test_token' });
    assert.equal(r.format?.id, 'gguf', r.reason);
    const first = server.requests[0]!;
    assert.equal(first.authorization, 'Bearer hf_test_token');
  });
  it('a missing file in a repo gives NOT_FOUND', async () => {
    const r = await identify('hf://acme/tiny/missing.gguf', { hfEndpoint: server.url });
    assert.equal(r.format, null);
    assert.equal(r.error?.code, 'NOT_FOUND');
  });
  it('a malformed hf:// URL gives USAGE', async () => {
    const r = await identify('hf://just-a-name', { hfEndpoint: server.url });
    assert.equal(r.error?.code, 'USAGE');
  });
});

describe('http: servers that ignore Range', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'modelwise-norange-'));
    await writeFile(join(root, 'small.gguf'), makeGguf(200 * 1024, 2));
    await writeFile(join(root, 'big.gguf'), makeGguf(8 * MiB));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  for (const noLength of [false, true]) {
    const label = noLength ? ' (chunked, no Content-Length)' : '';
    it(`a small file is accepted whole${label}`, async () => {
      const server = await serveFolder(root, { noRange: true, noLength });
      try {
        const r = await identify(`${server.url}/small.gguf`);
        assert.equal(r.format?.id, 'gguf', r.reason);
        assert.equal(r.size, 200 * 1024);
        assert.equal(server.requests.length, 1, 'the whole body came in the first answer');
      } finally {
        await server.close();
      }
    });
    it(`a large file is refused with UNSUPPORTED${label}`, async () => {
      const server = await serveFolder(root, { noRange: true, noLength });
      try {
        const r = await identify(`${server.url}/big.gguf`);
        assert.equal(r.format, null);
        assert.equal(r.error?.code, 'UNSUPPORTED', r.reason);
        await assert.rejects(openUrl(`${server.url}/big.gguf`), isCode('UNSUPPORTED'));
      } finally {
        await server.close();
      }
    });
  }
});

describe('http: resolveHfUrl and isRemote', () => {
  const E = 'https://huggingface.co';
  it('resolves owner/repo/path to the main revision', () => {
    assert.equal(resolveHfUrl('hf://meta-llama/Llama-3-8B/model.safetensors'), `${E}/meta-llama/Llama-3-8B/resolve/main/model.safetensors`);
  });
  it('keeps nested paths and encodes each segment', () => {
    assert.equal(resolveHfUrl('hf://o/r/onnx/model q.onnx'), `${E}/o/r/resolve/main/onnx/model%20q.onnx`);
    assert.equal(resolveHfUrl('hf://o/r/a#b?.bin'), `${E}/o/r/resolve/main/a%23b%3F.bin`);
  });
  it('takes a revision after @ (branch, tag, commit, encoded ref)', () => {
    assert.equal(resolveHfUrl('hf://o/r@v1.0/m.gguf'), `${E}/o/r/resolve/v1.0/m.gguf`);
    assert.equal(resolveHfUrl('hf://o/r@0123456789abcdef0123456789abcdef01234567/m.gguf'), `${E}/o/r/resolve/0123456789abcdef0123456789abcdef01234567/m.gguf`);
    assert.equal(resolveHfUrl('hf://o/r@refs%2Fpr%2F1/m.gguf'), `${E}/o/r/resolve/refs%2Fpr%2F1/m.gguf`);
  });
  it('handles datasets/ and spaces/ repos', () => {
    assert.equal(resolveHfUrl('hf://datasets/o/r/data.npz'), `${E}/datasets/o/r/resolve/main/data.npz`);
    assert.equal(resolveHfUrl('hf://spaces/o/r@dev/app/model.onnx'), `${E}/spaces/o/r/resolve/dev/app/model.onnx`);
    assert.equal(resolveHfUrl('hf://Datasets/o/r/x'), `${E}/datasets/o/r/resolve/main/x`);
  });
  it('uses the given endpoint, with or without a trailing slash', () => {
    assert.equal(resolveHfUrl('hf://o/r/m.gguf', 'http://127.0.0.1:9/'), 'http://127.0.0.1:9/o/r/resolve/main/m.gguf');
    assert.equal(resolveHfUrl('hf://o/r/m.gguf', 'https://mirror.example/hub'), 'https://mirror.example/hub/o/r/resolve/main/m.gguf');
  });
  it('refuses URLs without owner, repo and path (USAGE)', () => {
    for (const u of ['hf://o', 'hf://o/r', 'hf://o/r/', 'hf://o@x/r/m', 'https://o/r/m', 'hf:///r/m']) {
      assert.throws(() => resolveHfUrl(u), isCode('USAGE'), u);
    }
  });
  it('isRemote', () => {
    assert.equal(isRemote('http://x/y'), true);
    assert.equal(isRemote('HTTPS://x/y'), true);
    assert.equal(isRemote('hf://o/r/m'), true);
    assert.equal(isRemote('./model.gguf'), false);
    assert.equal(isRemote('C:\\models\\m.gguf'), false);
    assert.equal(isRemote('file:///m.gguf'), false);
  });
});
