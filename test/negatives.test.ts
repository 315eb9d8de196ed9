/**
 * Files that are never models: identify must say `format: null` and name what the file is instead
 * (`notModel`), through every source kind (a path, bytes, a Blob, HTTP range requests). Names are
 * deliberately model-like (an HTML page saved as model.safetensors): detection is by content.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identify, identifyPath, type Identification } from '../src/node/index.js';
import { buildZip } from './helpers/zip-writer.js';
import { serveFolder, type TestServer } from './helpers/http-server.js';

const enc = new TextEncoder();

/** Seeded PRNG (mulberry32). */
function randomBytes(n: number, seed: number): Uint8Array {
  let a = seed >>> 0;
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    b[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return b;
}

interface Negative {
  /** Test label and subfolder. */
  label: string;
  /** File name (model-like on purpose). */
  name: string;
  bytes: () => Promise<Uint8Array> | Uint8Array;
  notModel: string;
}

const NEGATIVES: Negative[] = [
  {
    label: 'html page',
    name: 'model.safetensors',
    notModel: 'html',
    bytes: () =>
      enc.encode(
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>404 – Hugging Face</title></head>\n' +
          '<body><h1>404</h1><p>Sorry, we can’t find the page you are looking for.</p></body>\n</html>\n',
      ),
  },
  {
    label: 'git lfs pointer',
    name: 'pytorch_model.bin',
    notModel: 'git-lfs-pointer',
    bytes: () =>
      enc.encode(
        'version https://git-lfs.github.com/spec/v1\n' +
          'oid sha256:4d7a1f3b0c9e8d2a6b5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b\n' +
          'size 548118077\n',
      ),
  },
  { label: 'random bytes', name: 'weights.bin', notModel: 'unknown', bytes: () => randomBytes(64 * 1024, 0x5eed) },
  { label: 'empty file', name: 'model.onnx', notModel: 'empty', bytes: () => new Uint8Array(0) },
  {
    label: 'plain hdf5',
    name: 'data.h5',
    notModel: 'hdf5',
    // Made by scripts/fixtures/make_plain_h5.py (h5py): datasets and attributes, no Keras attributes.
    bytes: async () => new Uint8Array(await readFile(new URL('./fixtures/negatives/plain.h5', import.meta.url))),
  },
  {
    label: 'plain zip of text files',
    name: 'docs.zip',
    notModel: 'zip',
    bytes: () =>
      buildZip([
        { name: 'README.md', data: '# Docs\n\nNothing to see here.\n'.repeat(20), method: 'deflate' },
        { name: 'docs/guide.txt', data: 'Step 1. Read the guide.\nStep 2. There is no step 2.\n', method: 'store' },
        { name: 'docs/', data: '' },
      ]).bytes,
  },
  {
    label: 'encrypted zip',
    name: 'model.zip',
    notModel: 'encrypted-zip',
    bytes: () =>
      buildZip([
        { name: 'model.onnx', data: randomBytes(2000, 7), encrypted: true },
        { name: 'README.txt', data: randomBytes(300, 8), encrypted: true },
      ]).bytes,
  },
  {
    label: 'plain json (package.json)',
    name: 'model.json',
    notModel: 'json',
    bytes: () =>
      enc.encode(
        JSON.stringify(
          {
            name: 'my-app',
            version: '1.2.3',
            description: 'An app',
            main: 'index.js',
            scripts: { test: 'node --test' },
            dependencies: { express: '^4.18.0' },
            license: 'MIT',
          },
          null,
          2,
        ),
      ),
  },
  {
    label: 'hugging face config.json',
    name: 'config.json',
    notModel: 'hf-config',
    bytes: () =>
      enc.encode(
        JSON.stringify(
          {
            architectures: ['LlamaForCausalLM'],
            model_type: 'llama',
            hidden_size: 4096,
            intermediate_size: 11008,
            num_attention_heads: 32,
            num_hidden_layers: 32,
            vocab_size: 32000,
            torch_dtype: 'float16',
            transformers_version: '4.40.0',
          },
          null,
          2,
        ),
      ),
  },
  {
    label: 'tokenizer.json',
    name: 'tokenizer.json',
    notModel: 'hf-tokenizer',
    bytes: () =>
      enc.encode(
        JSON.stringify({
          version: '1.0',
          truncation: null,
          padding: null,
          added_tokens: [{ id: 0, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
          normalizer: { type: 'NFC' },
          pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
          post_processor: null,
          decoder: { type: 'ByteLevel' },
          model: { type: 'BPE', dropout: null, unk_token: '<unk>', vocab: { '<unk>': 0, a: 1, b: 2, ab: 3 }, merges: ['a b'] },
        }),
      ),
  },
  {
    label: 'plain xml',
    name: 'model.xml',
    notModel: 'xml',
    bytes: () =>
      enc.encode(
        '<?xml version="1.0" encoding="UTF-8"?>\n<catalog>\n  <book id="bk101"><author>Gambardella, Matthew</author>' +
          '<title>XML Developer\'s Guide</title><price>44.95</price></book>\n</catalog>\n',
      ),
  },
  {
    label: 'text file',
    name: 'model.txt',
    notModel: 'text',
    bytes: () => enc.encode('Training notes\n==============\n\nlr=3e-4, batch 32, 10 epochs.\nThe loss went down.\n'.repeat(10)),
  },
];

type Kind = 'file' | 'bytes' | 'blob' | 'http';
const KINDS: Kind[] = ['file', 'bytes', 'blob', 'http'];

describe('negatives: never reported as models', () => {
  let root: string;
  let server: TestServer;
  const data = new Map<string, Uint8Array>();

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'modelwise-negatives-'));
    for (const n of [...NEGATIVES, { label: 'truncated gguf', name: 'model.gguf', bytes: () => enc.encode('GGUF') } as Negative]) {
      const b = await n.bytes();
      data.set(n.label, b);
      // One folder per file, so a file's siblings never change the answer.
      const dir = join(root, n.label.replace(/[^a-z0-9]+/gi, '-'));
      await mkdir(dir);
      await writeFile(join(dir, n.name), b);
    }
    server = await serveFolder(root);
  });
  after(async () => {
    await server?.close();
    await rm(root, { recursive: true, force: true });
  });

  async function run(kind: Kind, n: Pick<Negative, 'label' | 'name'>): Promise<Identification> {
    const bytes = data.get(n.label)!;
    const folder = n.label.replace(/[^a-z0-9]+/gi, '-');
    switch (kind) {
      case 'file':
        return identifyPath(join(root, folder, n.name));
      case 'bytes':
        return identify(bytes, { name: n.name });
      case 'blob':
        return identify(new Blob([bytes as Uint8Array<ArrayBuffer>]), { name: n.name });
      case 'http':
        return identify(`${server.url}/${folder}/${n.name}`);
    }
  }

  for (const n of NEGATIVES) {
    for (const kind of KINDS) {
      it(`${n.label} (${n.name}) via ${kind} → not a model (${n.notModel})`, async () => {
        const r = await run(kind, n);
        assert.equal(r.format, null, `${n.label} via ${kind} claimed as ${JSON.stringify(r.format)}: ${JSON.stringify(r.evidence)}`);
        assert.equal(r.confidence, null);
        assert.equal(r.error, undefined, `${n.label} via ${kind}: ${r.error?.code} ${r.error?.message}`);
        assert.equal(r.notModel, n.notModel, `${n.label} via ${kind}: ${r.reason}`);
        assert.ok(r.reason && r.reason.length > 0);
        assert.equal(r.models, undefined);
      });
    }
  }

  for (const kind of KINDS) {
    it(`truncated gguf (4 bytes "GGUF") via ${kind} does not throw and is not claimed with high confidence`, async () => {
      const r = await run(kind, { label: 'truncated gguf', name: 'model.gguf' });
      assert.ok(r.format === null || r.confidence !== 'high', JSON.stringify(r));
      assert.equal(r.error, undefined);
    });
  }
});
