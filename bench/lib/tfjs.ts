/**
 * A TensorFlow.js graph model as `tensorflowjs_converter --input_format=tf_saved_model
 * --quantize_float16 --weight_shard_size_bytes N` writes it (tfjs-converter; the weights manifest
 * of tfjs-core io/types.ts): `model.json` (format graph-model, the GraphDef as JSON — Placeholder,
 * a Const per weight, MatMul/Relu — the signature, and the weights manifest: one group whose
 * weights are float32 stored float16-quantized) and `shardCount` binary shards
 * `group1-shardKofN.bin` holding the concatenated weight bytes cut at the shard size. The shards
 * are holes; their count does not change with the model size (the shard size does).
 */
import type { TreeFile } from './sparse.js';

export function tfjsGraphLayout(targetSize: number, weights = 300, shardCount = 20): { files: Record<string, TreeFile>; tensors: number } {
  const hidden = 8192;
  const ffn = Math.max(1, Math.floor(targetSize / weights / 2 / hidden));
  const manifestWeights: { name: string; shape: number[]; dtype: string; quantization: { dtype: string } }[] = [];
  const node: Record<string, unknown>[] = [
    { name: 'input_1', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: String(hidden) }] } } } },
  ];
  let h = 'input_1';
  for (let i = 0; i < weights; i++) {
    const shape = i % 2 === 0 ? [hidden, ffn] : [ffn, hidden];
    const w = `StatefulPartitionedCall/sequential/dense_${i}/MatMul/ReadVariableOp`;
    manifestWeights.push({ name: w, shape, dtype: 'float32', quantization: { dtype: 'float16' } });
    node.push({ name: w, op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } } } });
    const mm = `StatefulPartitionedCall/sequential/dense_${i}/MatMul`;
    node.push({ name: mm, op: 'MatMul', input: [h, w], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } });
    const relu = `StatefulPartitionedCall/sequential/dense_${i}/Relu`;
    node.push({ name: relu, op: 'Relu', input: [mm], attr: { T: { type: 'DT_FLOAT' } } });
    h = relu;
  }
  node.push({ name: 'Identity', op: 'Identity', input: [h], attr: { T: { type: 'DT_FLOAT' } } });
  const total = manifestWeights.reduce((s, w) => s + w.shape[0]! * w.shape[1]! * 2, 0);
  const shardSize = Math.ceil(total / shardCount);
  const paths = Array.from({ length: shardCount }, (_, i) => `group1-shard${i + 1}of${shardCount}.bin`);
  const model = {
    format: 'graph-model',
    generatedBy: '2.15.0',
    convertedBy: 'TensorFlow.js Converter v4.17.0',
    signature: {
      inputs: { 'input_1:0': { name: 'input_1:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '-1' }, { size: String(hidden) }] } } },
      outputs: { 'Identity:0': { name: 'Identity:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '-1' }, { size: String(hidden) }] } } },
    },
    modelTopology: { node, library: {}, versions: { producer: 1645 } },
    weightsManifest: [{ paths, weights: manifestWeights }],
  };
  const files: Record<string, TreeFile> = { 'model.json': new TextEncoder().encode(JSON.stringify(model)) };
  paths.forEach((p, i) => {
    files[p] = { size: Math.min(shardSize, total - i * shardSize), pieces: [] };
  });
  return { files, tensors: weights };
}
