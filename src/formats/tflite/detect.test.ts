import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tflite } from './index.js';
import { Probe } from '../../identify/probe.js';
import { BytesSource } from '../../io/source.js';
import { buildZip } from '../../../test/helpers/zip-writer.js';

const probeOf = (bytes: Uint8Array, name = 'model.tflite'): Probe => new Probe(new BytesSource(bytes, name), name);

interface ModelSpec {
  identifier?: string;
  version?: number;
  operatorCodes?: number;
  subgraphs?: number;
  description?: string;
  buffers?: number;
  metadata?: string[];
}

/**
 * A minimal TFLite Model flatbuffer laid out by hand: root offset, identifier, the Model vtable and
 * table, then vectors and strings (uoffsets patched as they are placed).
 */
function buildModel(s: ModelSpec): Uint8Array {
  const b = new Uint8Array(8192);
  const dv = new DataView(b.buffer);
  let end = 60;
  const place = (fieldAt: number, write: (at: number) => number): void => {
    end = (end + 3) & ~3;
    const at = end;
    end = write(at);
    dv.setUint32(fieldAt, at - fieldAt, true);
  };
  const str = (at: number, v: string): number => {
    const e = new TextEncoder().encode(v);
    dv.setUint32(at, e.length, true);
    b.set(e, at + 4);
    return at + 4 + e.length + 1;
  };
  const vec = (at: number, n: number): number => {
    dv.setUint32(at, n, true);
    return at + 4 + 4 * n;
  };
  dv.setUint32(0, 28, true);
  b.set(new TextEncoder().encode(s.identifier ?? 'TFL3'), 4);
  // vtable at 8: 8 fields
  const fields = [
    s.version !== undefined ? 4 : 0,
    s.operatorCodes !== undefined ? 8 : 0,
    s.subgraphs !== undefined ? 12 : 0,
    s.description !== undefined ? 16 : 0,
    s.buffers !== undefined ? 20 : 0,
    0,
    s.metadata !== undefined ? 24 : 0,
    0,
  ];
  dv.setUint16(8, 20, true);
  dv.setUint16(10, 32, true);
  fields.forEach((f, i) => dv.setUint16(12 + 2 * i, f, true));
  dv.setInt32(28, 28 - 8, true);
  if (s.version !== undefined) dv.setUint32(32, s.version, true);
  if (s.operatorCodes !== undefined) place(36, (at) => vec(at, s.operatorCodes!));
  if (s.subgraphs !== undefined) place(40, (at) => vec(at, s.subgraphs!));
  if (s.description !== undefined) place(44, (at) => str(at, s.description!));
  if (s.buffers !== undefined) place(48, (at) => vec(at, s.buffers!));
  if (s.metadata !== undefined) {
    const names = s.metadata;
    place(52, (at) => {
      dv.setUint32(at, names.length, true);
      let e = at + 4 + 4 * names.length;
      names.forEach((n, k) => {
        // Metadata table: vtable (8 bytes) then table (soffset, name uoffset, buffer u32), then its string.
        const vt = e;
        dv.setUint16(vt, 8, true);
        dv.setUint16(vt + 2, 12, true);
        dv.setUint16(vt + 4, 4, true);
        dv.setUint16(vt + 6, 8, true);
        const t = vt + 8;
        dv.setInt32(t, t - vt, true);
        dv.setUint32(t + 8, k, true);
        dv.setUint32(at + 4 + 4 * k, t - (at + 4 + 4 * k), true);
        const sAt = (t + 12 + 3) & ~3;
        dv.setUint32(t + 4, sAt - (t + 4), true);
        e = str(sAt, n);
        e = (e + 3) & ~3;
      });
      return e;
    });
  }
  return b.slice(0, (end + 3) & ~3);
}

const full: ModelSpec = { version: 3, operatorCodes: 2, subgraphs: 1, description: 'MLIR Converted.', buffers: 5, metadata: ['min_runtime_version', 'CONVERSION_METADATA'] };

describe('tflite detect', () => {
  it('reads version, description, counts and metadata names', async () => {
    const d = await tflite.detect!(probeOf(buildModel(full)));
    assert.equal(d?.format.id, 'tflite');
    assert.equal(d?.format.variant, 'tflite-flatbuffer');
    assert.equal(d?.format.version, '3');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.details?.description, 'MLIR Converted.');
    assert.equal(d?.details?.subgraphs, 1);
    assert.equal(d?.details?.buffers, 5);
    assert.equal(d?.details?.operatorCodes, 2);
    assert.ok(d?.evidence[0]!.includes("TFLite flatbuffer identifier TFL3, schema version 3, description 'MLIR Converted.'"));
    assert.ok(d?.evidence.some((e) => e.includes('min_runtime_version, CONVERSION_METADATA')));
  });

  it('by content, whatever the name', async () => {
    assert.equal((await tflite.detect!(probeOf(buildModel(full), 'blob.bin')))?.confidence, 'high');
  });

  it('notes a zip of associated files appended after the flatbuffer', async () => {
    const fb = buildModel(full);
    const z = buildZip([{ name: 'labels.txt', data: 'cat\ndog\n' }], { prefix: fb });
    const d = await tflite.detect!(probeOf(z.bytes));
    assert.equal(d?.confidence, 'high');
    assert.ok(d?.evidence.some((e) => e.includes('appended') && e.includes('labels.txt')));
    assert.equal(d?.details?.associatedFiles, 1);
  });

  it('a file without identifier is accepted only as .tflite with a readable Model', async () => {
    const noId = buildModel({ ...full, identifier: '\0\0\0\0' });
    assert.equal((await tflite.detect!(probeOf(noId, 'old.tflite')))?.confidence, 'medium');
    assert.equal(await tflite.detect!(probeOf(noId, 'old.bin')), undefined);
    assert.equal(await tflite.detect!(probeOf(buildModel({ version: 3, identifier: '\0\0\0\0' }), 'x.tflite')), undefined);
  });

  it('TFL3 with an unreadable root table is still TFLite, medium', async () => {
    const b = buildModel(full);
    new DataView(b.buffer).setUint32(0, 0x7fffffff, true);
    const d = await tflite.detect!(probeOf(b));
    assert.equal(d?.confidence, 'medium');
    assert.ok(d?.evidence[0]!.includes('could not be read'));
  });

  it('hostile offsets and lengths never throw', async () => {
    const base = buildModel(full);
    for (let i = 8; i < base.length; i += 2) {
      const b = base.slice();
      b[i] = 0xff;
      b[i + 1] = 0x7f;
      const d = await tflite.detect!(probeOf(b));
      assert.equal(d?.format.id, 'tflite');
    }
  });

  it('near misses: other flatbuffers, JSON, zip, short files', async () => {
    assert.equal(await tflite.detect!(probeOf(buildModel({ ...full, identifier: 'ET12' }), 'x.pte')), undefined);
    assert.equal(await tflite.detect!(probeOf(new TextEncoder().encode('{"version": 3, "subgraphs": []}'), 'x.json')), undefined);
    assert.equal(await tflite.detect!(probeOf(buildZip([{ name: 'a.txt', data: 'x' }]).bytes, 'x.zip')), undefined);
    assert.equal(await tflite.detect!(probeOf(new Uint8Array([0x1c, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33]))), undefined);
  });
});
