import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FlatBuffer } from './flatbuffers.js';
import { BytesSource, CountingSource } from '../io/source.js';
import { buildFlatbuffer, bytes, ref, refs, s, scalars, str, table } from '../../test/helpers/flatbuffer-builder.js';

const src = (b: Uint8Array) => new BytesSource(b, 't.bin');

describe('flatbuffers reader', () => {
  it('reads scalars, defaults, strings, vectors, unions', async () => {
    const child = table(s('i32', -7), ref(str('inner')));
    const root = table(
      s('u32', 42),
      undefined,
      ref(str('héllo')),
      ref(scalars('i64', [1n, -2n, 2n ** 60n])),
      ref(refs([child, table(s('u8', 9))])),
      s('u8', 2), // union type
      ref(table(s('f32', 1.5))), // union value
      ref(bytes(new Uint8Array([1, 2, 3]))),
      s('u64', 2n ** 62n),
    );
    const { bytes: b } = buildFlatbuffer(root, 'TEST');
    const fb = new FlatBuffer(src(b));
    assert.equal(await fb.identifier(), 'TEST');
    const t = await fb.root();
    assert.equal(await t.num(0, 'u32'), 42);
    assert.equal(t.has(1), false);
    assert.equal(await t.num(1, 'i32', 5), 5);
    assert.equal(await t.num(99, 'i32', 3), 3);
    assert.equal(await t.string(2), 'héllo');
    assert.deepEqual(await (await t.vector(3, 8))!.scalars('i64'), [1, -2, (2n ** 60n).toString()]);
    const v = (await t.vector(4, 4))!;
    assert.equal(v.length, 2);
    const c = await v.table(0);
    assert.equal(await c.num(0, 'i32'), -7);
    assert.equal(await c.string(1), 'inner');
    assert.equal(await (await v.table(1)).num(0, 'u8'), 9);
    const u = await t.union(5);
    assert.equal(u.type, 2);
    assert.equal(await u.table!.num(0, 'f32'), 1.5);
    assert.deepEqual([...(await (await t.vector(7, 1))!.bytes())], [1, 2, 3]);
    assert.equal(await t.scalar(8, 'u64'), (2n ** 62n).toString());
    await assert.rejects(t.num(8, 'u64'), (e: { code?: string }) => e.code === 'MALFORMED');
    assert.equal(await t.table(1), undefined);
    assert.equal(await t.string(1), undefined);
  });

  it('refuses offsets, vtables and vector lengths outside the buffer', async () => {
    const { bytes: good, positions } = buildFlatbuffer(table(ref(scalars('u32', [1, 2, 3]))), 'TEST');
    const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
    // Root offset past the end.
    const a = good.slice();
    dv(a).setUint32(0, 1 << 30, true);
    await assert.rejects(new FlatBuffer(src(a)).root(), (e: { code?: string }) => e.code === 'MALFORMED');
    // vtable offset pointing outside.
    const b = good.slice();
    const rootPos = dv(b).getUint32(0, true);
    dv(b).setInt32(rootPos, -(1 << 20), true);
    await assert.rejects(new FlatBuffer(src(b)).root(), (e: { code?: string }) => e.code === 'MALFORMED');
    // Vector length lie.
    const c = good.slice();
    const vecPos = [...positions.values()].find((p) => p !== rootPos)!;
    dv(c).setUint32(vecPos, 0x40000000, true);
    const t = await new FlatBuffer(src(c)).root();
    await assert.rejects(t.vector(0, 4), (e: { code?: string }) => e.code === 'MALFORMED');
    // Truncated buffer.
    await assert.rejects(new FlatBuffer(src(good.subarray(0, 6))).root(), (e: { code?: string }) => e.code === 'MALFORMED');
  });

  it('reads only the pages it needs', async () => {
    const blob = new Uint8Array(8 * 1024 * 1024);
    const { bytes: b } = buildFlatbuffer(table(ref(str('name')), ref(bytes(blob)), ref(str('after'))), 'BIGG');
    const counting = new CountingSource(src(b));
    const t = await new FlatBuffer(counting).root();
    assert.equal(await t.string(0), 'name');
    assert.equal((await t.vector(1, 1))!.length, blob.length);
    assert.equal(await t.string(2), 'after');
    assert.ok(counting.bytesRead < 512 * 1024, `read ${counting.bytesRead}`);
  });

  it('reads a flatbuffer embedded at an offset', async () => {
    const { bytes: inner } = buildFlatbuffer(table(s('u16', 513)), 'INNR');
    const outer = new Uint8Array(100 + inner.length);
    outer.set(inner, 100);
    const fb = new FlatBuffer(src(outer), { base: 100, size: inner.length });
    assert.equal(await fb.identifier(), 'INNR');
    assert.equal(await (await fb.root()).num(0, 'u16'), 513);
    assert.throws(() => new FlatBuffer(src(outer), { base: 100, size: inner.length + 1 }));
  });
});
