import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { inspectSource } from '../../inspect/inspect.js';
import { BytesSource } from '../../io/source.js';
import { ModelwiseError } from '../../errors.js';
import { SyntheticPmml } from './synthetic.test-util.js';
import { walkPmml } from './walk.js';

const NS = 'http://www.dmg.org/PMML-4_4';
const doc = (body: string, head = `<PMML xmlns="${NS}" xmlns:x="urn:other" version="4.4">`) => `<?xml version="1.0"?>\n${head}${body}</PMML>\n`;
const run = (text: string, name = 'm.pmml') => inspectSource(new BytesSource(new TextEncoder().encode(text), name), { path: name });

const HEADER = `<Header copyright="(c) me" description="demo"><Application name="Tool" version="2.1"/><Timestamp>
  2024-01-02</Timestamp><Annotation>a1</Annotation><Annotation>a2</Annotation></Header>`;
const DICT = `<DataDictionary numberOfFields="4">
  <DataField name="x1" optype="continuous" dataType="double"><Interval closure="closedClosed" leftMargin="0" rightMargin="1"/></DataField>
  <DataField name="x2" optype="continuous" dataType="float"/>
  <DataField name="n" optype="continuous" dataType="integer"/>
  <DataField name="y" optype="categorical" dataType="string"><Value value="a"/><Value value="b"/></DataField>
</DataDictionary>
<TransformationDictionary><DerivedField name="d" optype="continuous" dataType="double"><FieldRef field="x1"/></DerivedField></TransformationDictionary>`;
const SCHEMA = `<MiningSchema><MiningField name="x1"/><MiningField name="d" usageType="active"/><MiningField name="n" usageType="supplementary"/><MiningField name="y" usageType="target"/></MiningSchema>`;
const tree = (nodes: number) => `<TreeModel functionName="classification" modelName="t">${SCHEMA}<Node score="a"><True/>${'<Node score="b"><True/>'.repeat(nodes - 1)}${'</Node>'.repeat(nodes - 1)}</Node></TreeModel>`;

describe('pmml inspect', () => {
  it('reads the header, data dictionary, mining schema, outputs and a tree model', async () => {
    const r = await run(doc(HEADER + DICT + tree(4).replace('</MiningSchema>', '</MiningSchema><Output><OutputField name="p_a"/><OutputField name="p_b"/></Output>')));
    assert.equal(r.format.id, 'pmml');
    assert.equal(r.format.version, '4.4');
    assert.equal(r.producer, 'Tool 2.1');
    assert.equal(r.architecture, 'TreeModel (classification)');
    assert.equal(r.tensors.count, 0);
    assert.deepEqual(r.graph, {
      inputs: [{ name: 'x1', dtype: 'f64', shape: null }, { name: 'd', dtype: 'f64', shape: null }],
      outputs: [{ name: 'y', dtype: 'string', shape: null, usageType: 'target' }],
      ops: {},
    });
    assert.deepEqual(r.metadata, { copyright: '(c) me', description: 'demo', Application: { name: 'Tool', version: '2.1' }, Timestamp: '2024-01-02', Annotation: ['a1', 'a2'] });
    const d = r.details as Record<string, any>;
    assert.deepEqual(d.dataDictionary.list, [
      { name: 'x1', optype: 'continuous', dataType: 'double', values: 0, intervals: 1 },
      { name: 'x2', optype: 'continuous', dataType: 'float', values: 0, intervals: 0 },
      { name: 'n', optype: 'continuous', dataType: 'integer', values: 0, intervals: 0 },
      { name: 'y', optype: 'categorical', dataType: 'string', values: 2, intervals: 0 },
    ]);
    assert.equal(d.models[0].size, '4 nodes, depth 4');
    assert.deepEqual(d.miningSchema, { fields: 4, active: 2, target: 1, other: [{ name: 'n', usageType: 'supplementary' }] });
    assert.deepEqual(d.outputFields, { count: 2, names: ['p_a', 'p_b'] });
    assert.equal(d.derivedFields, 1);
    assert.deepEqual(r.diagnostics, []);
  });

  it('recurses into mining model segments and sizes every model kind', async () => {
    const seg = (m: string) => `<Segment><True/>${m}</Segment>`;
    const reg = `<RegressionModel functionName="regression">${SCHEMA}<RegressionTable intercept="1"><NumericPredictor name="x1" coefficient="2"/><CategoricalPredictor name="y" value="a" coefficient="1"/></RegressionTable></RegressionModel>`;
    const nn = `<NeuralNetwork functionName="regression" activationFunction="tanh">${SCHEMA}<NeuralInputs><NeuralInput id="0"/></NeuralInputs><NeuralLayer><Neuron id="1"><Con from="0" weight="1"/></Neuron><Neuron id="2"><Con from="0" weight="1"/></Neuron></NeuralLayer></NeuralNetwork>`;
    const svm = `<SupportVectorMachineModel functionName="classification">${SCHEMA}<VectorDictionary><VectorInstance id="1"/><VectorInstance id="2"/></VectorDictionary><SupportVectorMachine><SupportVectors><SupportVector vectorId="1"/></SupportVectors><Coefficients><Coefficient value="1"/></Coefficients></SupportVectorMachine></SupportVectorMachineModel>`;
    const inner = `<MiningModel functionName="regression">${SCHEMA}<Segmentation>${seg(tree(2))}${seg(tree(3))}</Segmentation></MiningModel>`;
    const top = `<MiningModel functionName="classification" modelName="ens">${SCHEMA}<Output><OutputField name="o"/></Output><Segmentation>${seg(inner)}${seg(reg)}${seg(nn)}${seg(svm)}</Segmentation></MiningModel>`;
    const r = await run(doc(HEADER + DICT + top + '<x:Extension><x:TreeModel/></x:Extension>'));
    const d = r.details as Record<string, any>;
    assert.deepEqual(d.modelKinds, { MiningModel: 2, TreeModel: 2, RegressionModel: 1, NeuralNetwork: 1, SupportVectorMachineModel: 1 });
    const m = d.models[0];
    assert.equal(m.size, '4 segments');
    assert.deepEqual(m.segments.map((s: any) => s.size), ['2 segments', '1 regression table, 2 coefficients', '1 layer, 2 neurons, 2 connections', '1 machine, 2 vectors, 1 coefficient']);
    assert.deepEqual(m.segments[0].segments.map((s: any) => s.size), ['2 nodes, depth 2', '3 nodes, depth 3']);
    assert.deepEqual(d.outputFields.names, ['o']);
  });

  it('types mining fields from a DerivedField, flags undeclared ones and a field count mismatch', async () => {
    const r = await run(doc(DICT.replace('numberOfFields="4"', 'numberOfFields="9"') + tree(1).replace('<MiningField name="x1"/>', '<MiningField name="ghost"/>')));
    assert.deepEqual(r.graph!.inputs.map((i) => [i.name, i.dtype]), [['ghost', null], ['d', 'f64']]);
    assert.deepEqual(r.diagnostics.map((d) => d.code).sort(), ['FIELD_COUNT_MISMATCH', 'FIELD_UNDECLARED']);
    assert.equal(r.producer, null);
  });

  it('a document without a model, or cut short, still reports what it read', async () => {
    const none = await run(doc(HEADER + DICT));
    assert.deepEqual(none.diagnostics.map((d) => d.code), ['NO_MODEL']);
    assert.equal(none.architecture, null);
    const full = doc(HEADER + DICT + tree(50));
    const cut = await run(full.slice(0, full.length - 300));
    assert.ok(cut.diagnostics.some((d) => d.code === 'TRUNCATED'));
    assert.equal(cut.graph!.inputs.length, 2);
    assert.equal(cut.producer, 'Tool 2.1');
  });

  it('never expands entities: a DOCTYPE with external entities is reported, not resolved', async () => {
    const head = `<!DOCTYPE PMML [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>\n<PMML xmlns="${NS}" version="4.4">`;
    const r = await run(doc(`<Header copyright="&xxe;&b;"/>` + DICT + tree(1), head));
    assert.equal(r.metadata.copyright, '&xxe;&b;');
    const codes = r.diagnostics.map((d) => d.code);
    assert.ok(codes.includes('XML_DOCTYPE') && codes.includes('XML_EXTERNAL_ENTITY') && codes.includes('XML_ENTITY_REFERENCE'), codes.join());
    assert.equal((r.details as any).doctype.entities.length, 3);
  });

  it('malformed XML: an error before the root, a partial report after it; deep nesting is capped', async () => {
    const cut = new BytesSource(new TextEncoder().encode('<?xml version="1.0"?><PMML xmlns="' + NS + '" version="4.4"'));
    await assert.rejects(walkPmml(cut), (e: ModelwiseError) => e.code === 'UNEXPECTED_EOF');
    const bad = await run('<PMML xmlns="' + NS + '" version="4.4"><Header><Application name="A"/></PMML>');
    assert.ok(bad.diagnostics.some((d) => d.code === 'MALFORMED'));
    assert.equal(bad.producer, 'A');
    const deep = doc(DICT + `<TreeModel functionName="regression">${SCHEMA}${'<Node>'.repeat(150_000)}`);
    const r = await run(deep);
    assert.ok(r.diagnostics.some((d) => d.code === 'LIMIT_EXCEEDED'));
  });

  it('streams a 200 MB document with bounded memory', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const src = new SyntheticPmml(80_000);
    assert.ok(src.size > 200e6);
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let next = 0;
    src.onRead = (offset) => {
      if (offset < next) return;
      next = offset + 16 * 1024 * 1024;
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    };
    const r = await inspectSource(src, { path: 'synthetic.pmml' });
    const d = r.details as Record<string, any>;
    assert.equal(d.modelKinds.TreeModel, 80_000);
    assert.equal(d.models[0].size, '80000 segments');
    assert.equal(src.bytesRead >= src.size, true);
    assert.ok(peak < 48 * 1024 * 1024, `retained heap grew by ${Math.round(peak / 1e6)} MB`);
  });
});
