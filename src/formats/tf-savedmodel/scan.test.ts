/**
 * TF SavedModel scan hook: host-I/O ops in the main graph and in library functions (TF-001/TF-002),
 * unknown ops, text graphs, frozen graphs, session bundles, Keras metadata Lambdas; near-misses with
 * ordinary graphs (Save/Restore only informational).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pb } from '../../codecs/protobuf.js';
import { scan } from './scan.js';
import { TF_OPS } from '../../scan/tf-ops.js';
import { graphDef, metaGraph, nodeDef, savedModel } from '../../../test/helpers/tf-builders.js';
import { MARSHAL_VECTORS } from '../../../test/helpers/marshal-vectors.js';
import { directScan, has, scanFolder } from '../../../test/helpers/scan-kit.js';

const sm = (nodes: Uint8Array[], fns: { name: string; nodes: Uint8Array[] }[] = []) => savedModel(metaGraph({ graph: graphDef(nodes, fns) }));
const ordinary = [nodeDef('x', 'Placeholder'), nodeDef('w', 'VarHandleOp'), nodeDef('r', 'ReadVariableOp'), nodeDef('m', 'MatMul'), nodeDef('s', 'SaveV2'), nodeDef('rs', 'RestoreV2'), nodeDef('c', 'StatefulPartitionedCall')];
const run = (files: Record<string, Uint8Array | string>, entry = 'saved_model.pb', variant = 'saved-model') => directScan(scan, files, entry, 'tf-savedmodel', variant);
/** A Const node holding one string (TensorProto dtype = 1 DT_STRING (7), string_val = 8). */
const strConst = (name: string, s: string) => nodeDef(name, 'Const', pb.message(5, pb.string(1, 'value'), pb.message(2, pb.message(8, pb.varint(1, 7), pb.string(8, s)))));

describe('TF SavedModel scan hook', () => {
  it('the op list knows the everyday ops', () => {
    for (const op of ['MatMul', 'StatefulPartitionedCall', 'VarHandleOp', 'ReadFile', 'PyFunc', 'XlaCallModule', 'DisableCopyOnRead', 'BatchMatMulV2']) assert.ok(TF_OPS.has(op), op);
    assert.ok(TF_OPS.size > 1400);
  });

  it('TF-001: ReadFile in a library function (TF2 keeps graphs there) is high, with nearby paths', async () => {
    const r = await run({ 'saved_model.pb': sm(ordinary, [{ name: '__inference_serve_42', nodes: [strConst('p', '/etc/passwd'), nodeDef('rf', 'ReadFile')] }]) });
    assert.equal(r.verdict, 'malicious');
    const f = r.all.find((x) => x.rule === 'TF-001')!;
    assert.match(f.location, /function __inference_serve_42/);
    assert.match(f.evidence, /\/etc\/passwd/);
  });

  it('TF-001: WriteFile / EagerPyFunc in the main graph; TF-002: MatchingFiles and unknown ops are medium', async () => {
    assert.equal((await run({ 'saved_model.pb': sm([...ordinary, nodeDef('w', 'WriteFile')]) })).verdict, 'malicious');
    assert.equal((await run({ 'saved_model.pb': sm([...ordinary, nodeDef('p', 'EagerPyFunc')]) })).verdict, 'malicious');
    const mf = await run({ 'saved_model.pb': sm([...ordinary, nodeDef('g', 'MatchingFiles')]) });
    assert.equal(mf.verdict, 'suspicious');
    const unk = await run({ 'saved_model.pb': sm(ordinary, [{ name: 'f', nodes: [nodeDef('z', 'TotallyCustomOp')] }]) });
    assert.equal(unk.verdict, 'suspicious');
    assert.ok(unk.all.some((x) => x.rule === 'TF-002' && x.evidence.includes('TotallyCustomOp')));
  });

  it('near-miss: an ordinary graph with Save/Restore is benign (info only)', async () => {
    const r = await run({ 'saved_model.pb': sm(ordinary, [{ name: 'f', nodes: [nodeDef('a', 'AddV2'), nodeDef('_a', '_Arg')] }]) });
    assert.equal(r.verdict, 'benign');
    assert.ok(has(r.all, 'TF-002', 'info'));
  });

  it('frozen GraphDef, session-bundle MetaGraphDef and text pbtxt graphs are walked too', async () => {
    assert.equal((await run({ 'frozen.pb': graphDef([nodeDef('x', 'Placeholder'), nodeDef('p', 'PyFunc')]) }, 'frozen.pb', 'frozen-graph')).verdict, 'malicious');
    assert.equal((await run({ 'export.meta': metaGraph({ graph: graphDef([nodeDef('p', 'ReadFile')]) }) }, 'export.meta', 'session-bundle')).verdict, 'malicious');
    const text = 'node {\n  name: "r"\n  op: "ReadFile"\n}\nnode { name: "x" op: "Placeholder" }\n';
    assert.equal((await run({ 'saved_model.pbtxt': text }, 'saved_model.pbtxt')).verdict, 'malicious');
    assert.equal((await run({ 'saved_model.pbtxt': 'node { name: "x" op: "Placeholder" }\n' }, 'saved_model.pbtxt')).verdict, 'benign');
  });

  it('keras_metadata.pb: a Lambda layer with os.system bytecode is critical', async () => {
    const evil = MARSHAL_VECTORS.find(([v, k]) => v === '3.8.18' && k === 'evil')![2];
    const md = (json: unknown) => pb.message(1, pb.varint(1, 1), pb.string(3, 'root.layer-1'), pb.string(4, '_tf_keras_layer'), pb.string(5, JSON.stringify(json)));
    const lam = { name: 'lambda', class_name: 'Lambda', config: { name: 'lambda', trainable: true, dtype: 'float32', function: [evil, null, null], function_type: 'lambda', module: '__main__' } };
    const r = await run({ 'saved_model.pb': sm(ordinary), 'keras_metadata.pb': md(lam) });
    assert.equal(r.verdict, 'malicious');
    assert.ok(r.all.some((f) => f.rule === 'KER-001' && f.location.includes('root.layer-1')));
    const ok = await run({ 'saved_model.pb': sm(ordinary), 'keras_metadata.pb': md({ name: 'dense', class_name: 'Dense', config: { name: 'dense', trainable: true, dtype: 'float32' } }) });
    assert.equal(ok.verdict, 'benign');
  });

  it('end to end as a folder model', async () => {
    const r = await scanFolder({ 'saved_model.pb': sm(ordinary, [{ name: 'f', nodes: [nodeDef('w', 'WriteFile')] }]), 'variables/variables.index': new Uint8Array(0) });
    assert.equal(r.format?.id, 'tf-savedmodel');
    assert.equal(r.verdict, 'malicious');
  });
});
