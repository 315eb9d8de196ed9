import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pmml } from './index.js';
import { Probe } from '../../identify/probe.js';
import { BytesSource } from '../../io/source.js';
import { identify } from '../../identify/identify.js';

const probeOf = (bytes: Uint8Array | string, name = 'model.pmml'): Probe =>
  new Probe(new BytesSource(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes, name), name);

const doc = (root: string, body = '<Header><Application name="JPMML-SkLearn" version="1.6.0"/></Header><TreeModel functionName="classification"/>'): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n${root}\n${body}\n</PMML>\n`;

describe('pmml detect', () => {
  it('PMML 4.4 with a namespace, Application and model element', async () => {
    const d = await pmml.detect!(probeOf(doc('<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">')));
    assert.equal(d?.format.id, 'pmml');
    assert.equal(d?.format.variant, 'pmml-xml');
    assert.equal(d?.format.version, '4.4');
    assert.equal(d?.confidence, 'high');
    assert.equal(d?.details?.application, 'JPMML-SkLearn');
    assert.equal(d?.details?.modelElement, 'TreeModel');
  });

  it('namespace/version mismatch: the attribute wins, the mismatch is in the evidence', async () => {
    const d = await pmml.detect!(probeOf(doc('<PMML xmlns="http://www.dmg.org/PMML-4_3" version="4.4">')));
    assert.equal(d?.format.version, '4.4');
    assert.ok(d?.evidence.some((e) => e.includes('namespace says PMML 4.3')));
  });

  it('BOM, comments, processing instructions and a DOCTYPE with an internal subset before the root', async () => {
    const text =
      '\ufeff<?xml version="1.0"?>\n<!-- exported > by tool -->\n<?pi x?>\n' +
      '<!DOCTYPE PMML [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> <!-- ] --> ]>\n' +
      '<PMML version="3.2" xmlns="http://www.dmg.org/PMML-3_2"><Header/><RegressionModel functionName="regression"/>&xxe;</PMML>';
    const d = await pmml.detect!(probeOf(text));
    assert.equal(d?.format.version, '3.2');
    assert.ok(d?.evidence.some((e) => e.includes('DOCTYPE (not resolved)')));
    assert.ok(!JSON.stringify(d).includes('root:'), 'entities are never expanded');
  });

  it('old PMML 2.0 without namespace; a prefixed root; UTF-16 and Latin-1 documents', async () => {
    const v2 = await pmml.detect!(probeOf('<?xml version="1.0"?><!DOCTYPE PMML PUBLIC "PMML 2.0" "http://www.dmg.org/v2-0/pmml_v2_0.dtd"><PMML version="2.0"><Header/></PMML>'));
    assert.equal(v2?.format.version, '2.0');
    const prefixed = await pmml.detect!(probeOf(doc('<p:PMML xmlns:p="http://www.dmg.org/PMML-4_2" version="4.2">').replace('</PMML>', '</p:PMML>')));
    assert.equal(prefixed?.format.version, '4.2');
    const s = doc('<PMML xmlns="http://www.dmg.org/PMML-4_1" version="4.1">');
    const u16 = new Uint8Array(2 + s.length * 2);
    u16.set([0xff, 0xfe]);
    for (let i = 0; i < s.length; i++) u16[2 + 2 * i] = s.charCodeAt(i);
    assert.equal((await pmml.detect!(probeOf(u16)))?.format.version, '4.1');
    const latin1 = new TextEncoder().encode(doc('<PMML version="4.0" xmlns="http://www.dmg.org/PMML-4_0">', '<Header description="Mod\u00e8le"/>'));
    const l1 = Uint8Array.from([...latin1].flatMap((b, i, a) => (b === 0xc3 ? [] : i > 0 && a[i - 1] === 0xc3 ? [b + 0x40] : [b])));
    assert.equal((await pmml.detect!(probeOf(l1)))?.format.version, '4.0');
  });

  it('a PMML root without version or namespace is medium', async () => {
    assert.equal((await pmml.detect!(probeOf('<PMML><Header/></PMML>')))?.confidence, 'medium');
  });

  it('near misses: plain XML, XHTML, an XML mentioning PMML, JSON, package.json, binary', async () => {
    for (const t of [
      '<?xml version="1.0"?><config><PMML version="4.4"/></config>',
      '<!DOCTYPE html><html><body>PMML</body></html>',
      '<?xml version="1.0"?><!-- <PMML version="4.4"> --><root/>',
      '<PMMLish version="4.4"/>',
      '{"PMML": {"version": "4.4"}}',
      '{"name": "pkg", "version": "1.0.0"}',
    ]) {
      assert.equal(await pmml.detect!(probeOf(t, 'x.xml')), undefined, t);
    }
    assert.equal(await pmml.detect!(probeOf(new Uint8Array([0, 1, 2, 3, 4, 5]))), undefined);
    const r = await identify(new TextEncoder().encode('<?xml version="1.0"?><config/>'), { name: 'c.xml' });
    assert.equal(r.format, null);
  });
});
