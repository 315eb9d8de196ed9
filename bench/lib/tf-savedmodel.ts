/**
 * A TF2 SavedModel folder as `tf.saved_model.save` of a Keras MLP writes it
 * (tensorflow/core/protobuf/saved_model.proto, meta_graph.proto; tensor_bundle.proto):
 *   saved_model.pb   — one MetaGraph (tag serve, TF 2.15.0) whose graph has a VarHandleOp per
 *                      variable, a function library (__inference_* functions of ReadVariableOp /
 *                      MatMul / BiasAdd / Relu), signature `serving_default` and an object graph;
 *   fingerprint.pb   — FingerprintDef (hashes, producer 1);
 *   variables/variables.index — the TensorBundle index: a LevelDB-format table (uncompressed
 *                      4 KiB-ish blocks, as BundleWriter writes it), header entry "" then one
 *                      BundleEntryProto per variable (dtype, shape, shard 0, offset, size and the
 *                      masked CRC-32C of its bytes — computed over the zeros without reading them);
 *   variables/variables.data-00000-of-00001 — the single multi-GB shard, a hole except for the
 *                      `_CHECKPOINTABLE_OBJECT_GRAPH` string at offset 0.
 */
import { pb } from '../../src/codecs/protobuf.js';
import { buildTable, graphDef, metaGraph, nodeDef, savedModel, shapeProto } from '../../test/helpers/tf-builders.js';
import { CRC32C, maskCrc32c } from './bytes.js';
import type { TreeFile } from './sparse.js';

const DT_FLOAT = 1;
const DT_STRING = 7;
const DT_INT64 = 9;

const attrType = (key: string, dtype: number) => pb.message(5, pb.string(1, key), pb.message(2, pb.varint(6, dtype)));
const attrShape = (key: string, dims: number[]) => pb.message(5, pb.string(1, key), pb.message(2, pb.bytes(7, shapeProto(dims))));
const attrString = (key: string, s: string) => pb.message(5, pb.string(1, key), pb.message(2, pb.string(2, s)));

export function tfSavedModelLayout(targetSize: number, tensorCount = 300): { files: Record<string, TreeFile>; tensors: number } {
  const hidden = 8192;
  const layers = Math.floor(tensorCount / 2);
  const ffn = Math.max(1, Math.floor(targetSize / layers / 4 / hidden));
  // The object graph string stored at the start of the shard (a small serialized proto in reality).
  const objectGraph = pb.concat(...Array.from({ length: 64 }, (_, i) => pb.message(1, pb.message(1, pb.varint(1, i + 1), pb.string(2, `layer_with_weights-${i}`)))));
  const entries: [string, Uint8Array][] = [];
  const bundleEntry = (dtype: number, shape: number[], offset: number, size: number, crc: number) =>
    pb.concat(pb.varint(1, dtype), pb.bytes(2, shapeProto(shape)), pb.varint(4, offset), pb.varint(5, size), pb.fixed32(6, maskCrc32c(crc)));
  entries.push(['_CHECKPOINTABLE_OBJECT_GRAPH', bundleEntry(DT_STRING, [], 0, objectGraph.length, CRC32C.crc(objectGraph))]);
  let offset = objectGraph.length;
  const varNodes: Uint8Array[] = [];
  for (let l = 0; l < layers; l++) {
    for (const [k, shape] of [['kernel', l % 2 === 0 ? [hidden, ffn] : [ffn, hidden]]] as const) {
      const size = shape[0]! * shape[1]! * 4;
      const key = `layer_with_weights-${l}/${k}/.ATTRIBUTES/VARIABLE_VALUE`;
      entries.push([key, bundleEntry(DT_FLOAT, [...shape], offset, size, CRC32C.extendZeros(0, size))]);
      varNodes.push(nodeDef(`dense_${l}/${k}`, 'VarHandleOp', attrType('dtype', DT_FLOAT), attrShape('shape', [...shape]), attrString('shared_name', `dense_${l}/${k}`)));
      offset += size;
    }
    const cols = l % 2 === 0 ? ffn : hidden;
    const key = `layer_with_weights-${l}/bias/.ATTRIBUTES/VARIABLE_VALUE`;
    entries.push([key, bundleEntry(DT_FLOAT, [cols], offset, cols * 4, CRC32C.extendZeros(0, cols * 4))]);
    varNodes.push(nodeDef(`dense_${l}/bias`, 'VarHandleOp', attrType('dtype', DT_FLOAT), attrShape('shape', [cols]), attrString('shared_name', `dense_${l}/bias`)));
    offset += cols * 4;
  }
  entries.push(['optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE', bundleEntry(DT_INT64, [], offset, 8, CRC32C.extendZeros(0, 8))]);
  offset += 8;
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const header = pb.concat(pb.varint(1, 1), pb.varint(2, 0), pb.message(3, pb.varint(1, 1)));
  const index = buildTable([['', header], ...entries], { snappy: false, perBlock: 32 });

  const fnBody = (i: number) => [nodeDef(`dense_${i}/MatMul/ReadVariableOp`, 'ReadVariableOp'), nodeDef(`dense_${i}/MatMul`, 'MatMul'), nodeDef(`dense_${i}/BiasAdd/ReadVariableOp`, 'ReadVariableOp'), nodeDef(`dense_${i}/BiasAdd`, 'BiasAdd'), nodeDef(`dense_${i}/Relu`, 'Relu')];
  const forward = Array.from({ length: layers }, (_, i) => fnBody(i)).flat();
  const graph = graphDef(
    [
      nodeDef('serving_default_input_1', 'Placeholder', attrType('dtype', DT_FLOAT), attrShape('shape', [-1, hidden])),
      nodeDef('saver_filename', 'Placeholder', attrType('dtype', DT_STRING)),
      ...varNodes,
      nodeDef('StatefulPartitionedCall', 'StatefulPartitionedCall', attrString('f', '__inference_signature_wrapper_1024')),
      nodeDef('StatefulPartitionedCall_1', 'StatefulPartitionedCall', attrString('f', '__inference__traced_save_2048')),
      nodeDef('StatefulPartitionedCall_2', 'StatefulPartitionedCall', attrString('f', '__inference__traced_restore_4096')),
    ],
    [
      { name: '__inference_signature_wrapper_1024', nodes: [nodeDef('StatefulPartitionedCall', 'StatefulPartitionedCall'), nodeDef('Identity', 'Identity')] },
      { name: '__inference_sequential_layer_call_fn_512', nodes: [...forward, nodeDef('Identity', 'Identity')] },
      { name: '__inference__traced_save_2048', nodes: [nodeDef('StaticRegexFullMatch', 'StaticRegexFullMatch'), nodeDef('SaveV2', 'SaveV2'), nodeDef('MergeV2Checkpoints', 'MergeV2Checkpoints'), nodeDef('Identity', 'Identity')] },
      { name: '__inference__traced_restore_4096', nodes: [nodeDef('RestoreV2', 'RestoreV2'), ...Array.from({ length: tensorCount }, (_, i) => nodeDef(`AssignVariableOp_${i}`, 'AssignVariableOp')), nodeDef('NoOp', 'NoOp')] },
    ],
    1645,
  );
  const model = savedModel(
    metaGraph({
      tf: '2.15.0',
      git: 'v2.15.0-rc1-8-g6887368d6d4',
      graph,
      objectGraph: true,
      signatures: [
        { key: '__saved_model_init_op', outputs: [['__saved_model_init_op', 'NoOp', 0, null]] },
        { key: 'serving_default', inputs: [['input_1', 'serving_default_input_1:0', DT_FLOAT, [-1, hidden]]], outputs: [['dense_out', 'StatefulPartitionedCall:0', DT_FLOAT, [-1, hidden]]] },
      ],
    }),
  );
  // FingerprintDef: uint64 hashes (varints), VersionDef { producer = 1 }.
  const fingerprint = pb.concat(pb.varint(1, 4_512_983_726_118_391), pb.varint(2, 7_290_114_883_652_017), pb.varint(3, 1_937_402_556_184_920), pb.varint(4, 8_801_235_470_665_293), pb.varint(5, 3_318_472_019_845_126), pb.message(6, pb.varint(1, 1)));
  return {
    files: {
      'saved_model.pb': model,
      'fingerprint.pb': fingerprint,
      'variables/variables.index': index,
      'variables/variables.data-00000-of-00001': { size: offset, pieces: [{ offset: 0, bytes: objectGraph }] },
    },
    tensors: entries.length,
  };
}
