import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BytesSource, CountingSource } from '../io/source.js';
import { SourceFieldReader, WIRE, int64, pb, readField, readVarint, scanMessage, zigzag, packedVarints, fieldString } from './protobuf.js';

describe('protobuf: varints', () => {
  it('round-trips values up to 2^53 and reports larger ones by halves', () => {
    for (const n of [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
      const v = readVarint(pb.rawVarint(n), 0)!;
      assert.equal(v.value, n);
    }
    const big = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]); // 2^64 - 1
    const v = readVarint(big, 0)!;
    assert.equal(v.value, undefined);
    assert.equal(v.lo, 0xffffffff);
    assert.equal(v.hi, 0xffffffff);
    assert.equal(v.size, 10);
    assert.equal(int64(v.lo, v.hi), -1);
  });

  it('encodes negative int64 as ten bytes', () => {
    for (const n of [-1, -2, -300, -(2 ** 40)]) {
      const b = pb.rawVarint(n);
      assert.equal(b.length, 10);
      const v = readVarint(b, 0)!;
      assert.equal(int64(v.lo, v.hi), n);
    }
  });

  it('rejects truncated, over-long and over-wide varints', () => {
    assert.equal(readVarint(new Uint8Array([0x80, 0x80]), 0), undefined);
    assert.equal(readVarint(new Uint8Array(11).fill(0x80), 0), undefined);
    assert.equal(readVarint(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]), 0), undefined);
    assert.equal(readVarint(new Uint8Array([0x80, 0x01]), 0, 1), undefined); // end bound respected
  });

  it('decodes zigzag', () => {
    const z = (n: number) => {
      const v = readVarint(pb.rawVarint(n), 0)!;
      return zigzag(v.lo, v.hi);
    };
    assert.equal(z(0), 0);
    assert.equal(z(1), -1);
    assert.equal(z(2), 1);
    assert.equal(z(3), -2);
    assert.equal(z(4294967294), 2147483647);
    assert.equal(z(4294967295), -2147483648);
  });
});

describe('protobuf: fields', () => {
  it('reads every wire type', () => {
    const msg = pb.concat(pb.varint(1, 150), pb.fixed64(2, 5, 1), pb.string(3, 'hi'), pb.fixed32(5, 7), pb.float(6, 1.5));
    const s = scanMessage(msg);
    assert.ok(s.ok && s.complete);
    assert.deepEqual(
      s.fields.map((f) => [f.field, f.wire, f.value ?? null]),
      [
        [1, WIRE.varint, 150],
        [2, WIRE.i64, 2 ** 32 + 5],
        [3, WIRE.len, null],
        [5, WIRE.i32, 7],
        [6, WIRE.i32, 0x3fc00000],
      ],
    );
    assert.equal(fieldString(msg, s.fields[2]!), 'hi');
  });

  it('refuses field 0, wire types 6/7, stray end-groups and lengths past the end', () => {
    assert.equal(readField(new Uint8Array([0x00, 0x01]), 0, 2), undefined);
    assert.equal(readField(new Uint8Array([0x0e, 0x01]), 0, 2), undefined);
    assert.equal(readField(new Uint8Array([0x0f, 0x01]), 0, 2), undefined);
    assert.equal(readField(new Uint8Array([0x0c]), 0, 1), undefined);
    assert.equal(readField(new Uint8Array([0x0a, 0x05, 0x41]), 0, 3), undefined);
  });

  it('accepts a LEN field cut by the window when it fits the declared end', () => {
    const msg = pb.concat(pb.varint(1, 7), pb.bytes(7, new Uint8Array(1000)));
    const prefix = msg.subarray(0, 100);
    const s = scanMessage(prefix, 0, prefix.length, { declaredEnd: msg.length });
    assert.ok(s.ok);
    assert.equal(s.complete, false);
    assert.equal(s.fields[1]!.truncated, true);
    assert.equal(s.fields[1]!.end, msg.length);
    // …but not past the declared end
    assert.equal(scanMessage(prefix, 0, prefix.length, { declaredEnd: 500 }).ok, false);
  });

  it('treats a tag cut by the window as the end of the prefix, not as an error', () => {
    const msg = pb.concat(pb.varint(1, 1), pb.varint(300, 2 ** 40));
    const s = scanMessage(msg, 0, 4, { declaredEnd: msg.length });
    assert.ok(s.ok);
    assert.equal(s.complete, false);
    assert.equal(s.fields.length, 1);
    assert.equal(scanMessage(msg, 0, 4).ok, false); // without more bytes declared it is malformed
  });

  it('skips groups only when asked, within the depth limit', () => {
    const group = pb.concat(pb.tag(4, WIRE.sgroup), pb.varint(1, 1), pb.tag(4, WIRE.egroup), pb.varint(2, 2));
    assert.equal(scanMessage(group).ok, false);
    const s = scanMessage(group, 0, group.length, { groups: true });
    assert.ok(s.ok && s.complete);
    assert.deepEqual(s.fields.map((f) => f.field), [4, 2]);
    let deep = pb.varint(1, 1);
    for (let i = 0; i < 150; i++) deep = pb.concat(pb.tag(3, WIRE.sgroup), deep, pb.tag(3, WIRE.egroup));
    assert.equal(scanMessage(deep, 0, deep.length, { groups: true }).ok, false);
  });

  it('decodes packed varints', () => {
    const inner = pb.concat(pb.rawVarint(1), pb.rawVarint(300), pb.rawVarint(-1));
    const msg = pb.bytes(1, inner);
    const f = readField(msg, 0, msg.length)!;
    assert.deepEqual(packedVarints(msg, f), [1, 300, -1]);
  });

  it('never throws on random bytes', () => {
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let n = 0; n < 200; n++) {
      const b = Uint8Array.from({ length: 256 }, rnd);
      const s = scanMessage(b, 0, b.length, { declaredEnd: 1 << 20, groups: true });
      assert.equal(typeof s.ok, 'boolean');
    }
  });
});

describe('protobuf: SourceFieldReader', () => {
  it('walks fields without reading skipped payloads', async () => {
    const big = new Uint8Array(5 * 1024 * 1024);
    const msg = pb.concat(pb.string(1, 'a'), pb.bytes(9, big), pb.message(13, pb.string(1, 'location'), pb.string(2, 'x.bin')), pb.varint(14, 1));
    const src = new CountingSource(new BytesSource(msg));
    const r = new SourceFieldReader(src);
    const seen: number[] = [];
    for await (const f of r.fields(0, msg.length)) {
      seen.push(f.field);
      if (f.field === 13) assert.equal(await r.string(f, 100), '\n\blocation\u0012\u0005x.bin');
    }
    assert.deepEqual(seen, [1, 9, 13, 14]);
    assert.ok(src.bytesRead < 64 * 1024, `read ${src.bytesRead} bytes`);
  });

  it('stops at its budget and says so', async () => {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 100; i++) parts.push(pb.bytes(5, new Uint8Array(100_000)));
    const msg = pb.concat(...parts);
    const r = new SourceFieldReader(new BytesSource(msg), { budget: 64 * 1024 });
    let n = 0;
    for await (const f of r.fields(0, msg.length)) if (f.field === 5) n++;
    assert.ok(r.exhausted);
    assert.ok(n < 100 && n > 0);
    assert.ok(r.bytesRead <= 64 * 1024);
  });

  it('stops after maxReads jumps over payloads', async () => {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 20; i++) parts.push(pb.bytes(5, new Uint8Array(50_000)));
    const msg = pb.concat(...parts);
    const r = new SourceFieldReader(new BytesSource(msg), { maxReads: 3 });
    let n = 0;
    for await (const f of r.fields(0, msg.length)) if (f.field === 5) n++;
    assert.equal(r.reads, 3);
    assert.equal(n, 3);
    assert.ok(r.exhausted);
  });

  it('refuses a field whose length runs past the message', async () => {
    const msg = pb.concat(pb.varint(1, 1), pb.tag(2, WIRE.len), pb.rawVarint(1000), new Uint8Array(10));
    const r = new SourceFieldReader(new BytesSource(msg));
    const it = r.fields(0, msg.length);
    const first = await it.next();
    assert.equal(first.done, false);
    const second = await it.next();
    assert.equal(second.done, true);
    assert.deepEqual(second.value, { ok: false, complete: false });
  });
});
