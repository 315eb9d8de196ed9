import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseXml, decodeEntities, type XmlHandler } from './xml.js';
import { BytesSource } from '../io/source.js';
import { ModelwiseError } from '../errors.js';

const src = (s: string | Uint8Array) => new BytesSource(typeof s === 'string' ? new TextEncoder().encode(s) : s, 'doc.xml');

/** Every event as a line, for comparing walks. */
async function events(doc: string | Uint8Array, chunkSize?: number): Promise<{ ev: string[]; res: Awaited<ReturnType<typeof parseXml>> }> {
  const ev: string[] = [];
  let text = '';
  const flush = () => {
    if (text) ev.push(`text ${JSON.stringify(text)}`);
    text = '';
  };
  const h: XmlHandler = {
    startElement: (t) => {
      flush();
      ev.push(`start ${t.name} {${t.uri}}${t.local} ${t.depth} ${JSON.stringify({ ...t.attributes })}${t.selfClosing ? ' /' : ''}`);
    },
    endElement: (n, d) => {
      flush();
      ev.push(`end ${n} ${d}`);
    },
    text: (s, cdata) => {
      if (cdata) {
        flush();
        ev.push(`cdata ${s}`);
      } else text += s;
    },
    comment: (s) => (flush(), void ev.push(`comment ${s}`)),
    processingInstruction: (t, d) => (flush(), void ev.push(`pi ${t} ${d}`)),
    doctype: (d) => void ev.push(`doctype ${d.name} ${d.entities.map((e) => e.name).join(',')}`),
  };
  const res = await parseXml(src(doc), h, chunkSize ? { chunkSize } : {});
  flush();
  return { ev, res };
}

const DOC = `<?xml version="1.0" encoding="UTF-8"?>
<!-- lead -->
<?style x="1"?>
<p:Root xmlns:p="urn:p" xmlns="urn:d" a="1 &amp; 2" b='&#x41;&#66;
x'>
  <Child k="v" __proto__="no"/>
  <q:Other xmlns:q="urn:q">t &lt;x&gt; &unknown; é</q:Other>
  <![CDATA[raw <b> & stuff]]>
  <!-- inner -- comment -->
  <Deep><Deeper/></Deep>
</p:Root>
`;

describe('xml tokenizer', () => {
  it('reports elements, namespaces, attributes, text, CDATA, comments and PIs', async () => {
    const { ev, res } = await events(DOC);
    assert.deepEqual(ev, [
      'comment  lead ',
      'pi style x="1"',
      'start p:Root {urn:p}Root 0 {"xmlns:p":"urn:p","xmlns":"urn:d","a":"1 & 2","b":"AB x"}',
      'text "\\n  "',
      'start Child {urn:d}Child 1 {"k":"v","__proto__":"no"} /',
      'end Child 1',
      'text "\\n  "',
      'start q:Other {urn:q}Other 1 {"xmlns:q":"urn:q"}',
      'text "t <x> &unknown; é"',
      'end q:Other 1',
      'text "\\n  "',
      'cdata raw <b> & stuff',
      'text "\\n  "',
      'comment  inner -- comment ',
      'text "\\n  "',
      'start Deep {urn:d}Deep 1 {}',
      'start Deeper {urn:d}Deeper 2 {} /',
      'end Deeper 2',
      'end Deep 1',
      'text "\\n"',
      'end p:Root 0',
    ]);
    assert.equal(res.complete, true);
    assert.deepEqual({ ...res.declaration }, { version: '1.0', encoding: 'UTF-8' });
    assert.deepEqual({ ...res.entityReferences }, { unknown: 1 });
    assert.ok(res.diagnostics.some((d) => d.code === 'XML_ENTITY_REFERENCE'));
    assert.equal(({} as Record<string, unknown>).no, undefined);
  });

  it('gives the same events whatever the chunk size', async () => {
    const want = (await events(DOC)).ev;
    for (const size of [1, 2, 3, 5, 7, 13, 64]) assert.deepEqual((await events(DOC, size)).ev, want, `chunk ${size}`);
  });

  it('reports DOCTYPE and ENTITY declarations and never expands them', async () => {
    const lol = `<?xml version="1.0"?>
<!DOCTYPE lolz SYSTEM "http://evil.example/x.dtd" [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
  <!ENTITY % pe SYSTEM "http://evil.example/pe">
  <!ELEMENT lolz (#PCDATA)>
  <!-- a ] > comment -->
]>
<lolz a="&lol2;">&lol2;&xxe;</lolz>`;
    const { ev, res } = await events(lol);
    assert.deepEqual(ev[0], 'doctype lolz lol,lol2,xxe,pe');
    assert.deepEqual(ev[2], 'text "&lol2;&xxe;"');
    assert.equal(res.doctype!.systemId, 'http://evil.example/x.dtd');
    assert.equal(res.doctype!.declarations, 5);
    assert.deepEqual(res.doctype!.entities.find((e) => e.name === 'xxe'), { name: 'xxe', parameter: false, systemId: 'file:///etc/passwd' });
    assert.equal(res.doctype!.entities.find((e) => e.name === 'pe')!.parameter, true);
    const codes = res.diagnostics.map((d) => d.code);
    assert.ok(codes.includes('XML_DOCTYPE') && codes.includes('XML_EXTERNAL_ENTITY') && codes.includes('XML_ENTITY_DECLARED') && codes.includes('XML_ENTITY_REFERENCE'));
    assert.deepEqual({ ...res.entityReferences }, { lol2: 2, xxe: 1 });
  });

  it('decodes UTF-16 with a BOM and a declared Latin-1 encoding', async () => {
    const s = '<r a="é">ü</r>';
    const le = new Uint8Array(2 + s.length * 2);
    le.set([0xff, 0xfe]);
    for (let i = 0; i < s.length; i++) le[2 + 2 * i] = s.charCodeAt(i);
    assert.deepEqual((await events(le)).ev, ['start r {}r 0 {"a":"é"}', 'text "ü"', 'end r 0']);
    const latin = Uint8Array.from([...'<?xml version="1.0" encoding="ISO-8859-1"?><r>'].map((c) => c.charCodeAt(0)).concat([0xe9], [...'</r>'].map((c) => c.charCodeAt(0))));
    const r = await events(latin);
    assert.deepEqual(r.ev, ['start r {}r 0 {}', 'text "é"', 'end r 0']);
    assert.equal(r.res.encoding, 'windows-1252');
  });

  it('stops when a handler returns false', async () => {
    let n = 0;
    const r = await parseXml(src('<a><b/><c/><d/></a>'), { startElement: () => ++n < 2 });
    assert.equal(n, 2);
    assert.equal(r.stopped, true);
    assert.equal(r.complete, false);
  });

  it('malformed, truncated and oversized input throw coded errors', async () => {
    const code = async (doc: string, c: string, opts = {}) =>
      assert.rejects(parseXml(src(doc), {}, opts), (e: ModelwiseError) => e instanceof ModelwiseError && e.code === c, doc.slice(0, 40));
    await code('<a><b></a>', 'MALFORMED');
    await code('<a></a><b/>', 'MALFORMED');
    await code('</a>', 'MALFORMED');
    await code('<a x=1/>', 'MALFORMED');
    await code('<a><!WHAT></a>', 'MALFORMED');
    await code('<a><b>', 'UNEXPECTED_EOF');
    await code('<a><!-- never closed', 'UNEXPECTED_EOF');
    await code('<a b="never closed>', 'UNEXPECTED_EOF');
    await code('just text', 'MALFORMED');
    await code(`<a>${'<!--' + 'x'.repeat(5000) + '-->'}</a>`, 'LIMIT_EXCEEDED', { maxToken: 1000, chunkSize: 256 });
    await code('<a>'.repeat(200) + '</a>'.repeat(200), 'LIMIT_EXCEEDED', { maxDepth: 100 });
    await code(`<a ${Array.from({ length: 50 }, (_, i) => `x${i}="1"`).join(' ')}/>`, 'LIMIT_EXCEEDED', { maxAttributes: 10 });
  });

  it('a long comment across many chunks is scanned in linear time', async () => {
    const doc = `<a><!--${'-'.repeat(1) + 'x'.repeat(4_000_000)}--></a>`;
    const t = Date.now();
    const r = await parseXml(src(doc), {}, { chunkSize: 4096 });
    assert.equal(r.complete, true);
    assert.ok(Date.now() - t < 5000);
  });

  it('decodeEntities: predefined and numeric only, bad code points replaced', () => {
    assert.equal(decodeEntities('&lt;&gt;&amp;&quot;&apos;&#65;&#x1F600;&#0;&#xD800;&foo;'), '<>&"\'A😀\ufffd\ufffd&foo;');
  });
});
