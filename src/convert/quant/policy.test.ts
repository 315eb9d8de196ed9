/**
 * llama-quantize's per-tensor policy: our planTensorTypes against libllama's own
 * (llama_quant_compute_types through FFI) on synthetic models, plus the order and edge rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareTensorNames, FILE_TYPES, ggmlNDims, layerOf, planTensorTypes, tensorAllowsQuantization,
  type FileType, type ModelFacts, type PolicyTensor,
} from './policy.js';
import { loadLlamaPolicyReference } from '../../../test/ggml-reference/llama-policy.js';

const ref = loadLlamaPolicyReference();
const skip = typeof ref === 'string' ? ref : false;
if (skip) console.log(`# SKIP policy oracle tests: ${skip}`);

interface Arch { model: ModelFacts; tensors: PolicyTensor[]; label: string }

/** A llama-family tensor set (ne order), optionally MoE / fused QKV / tied embeddings / odd widths. */
function model(label: string, m: ModelFacts, o: { embd?: number; ff?: number; vocab?: number; tied?: boolean; qkv?: boolean; moe?: boolean; bias?: boolean } = {}): Arch {
  const e = o.embd ?? 256;
  const ff = o.ff ?? 512;
  const v = o.vocab ?? 1000;
  const kv = (e / (m.nHead ?? 8)) * (m.nHeadKv ?? m.nHead ?? 8);
  const t: PolicyTensor[] = [{ name: 'token_embd.weight', shape: [e, v] }, { name: 'output_norm.weight', shape: [e] }];
  if (!o.tied) t.push({ name: 'output.weight', shape: [e, v] });
  for (let i = 0; i < m.nLayer; i++) {
    const b = `blk.${i}.`;
    t.push({ name: `${b}attn_norm.weight`, shape: [e] }, { name: `${b}ffn_norm.weight`, shape: [e] }, { name: `${b}attn_output.weight`, shape: [e, e] });
    if (o.qkv) t.push({ name: `${b}attn_qkv.weight`, shape: [e, e + 2 * kv] });
    else t.push({ name: `${b}attn_q.weight`, shape: [e, e] }, { name: `${b}attn_k.weight`, shape: [e, kv] }, { name: `${b}attn_v.weight`, shape: [e, kv] });
    if (o.bias) t.push({ name: `${b}attn_q.bias`, shape: [e] }, { name: `${b}attn_k.bias`, shape: [kv] }, { name: `${b}attn_v.bias`, shape: [kv] });
    if (o.moe) {
      const n = m.nExpert ?? 8;
      t.push({ name: `${b}ffn_gate_inp.weight`, shape: [e, n] }, { name: `${b}ffn_gate_exps.weight`, shape: [e, ff, n] },
        { name: `${b}ffn_up_exps.weight`, shape: [e, ff, n] }, { name: `${b}ffn_down_exps.weight`, shape: [ff, e, n] });
    } else {
      t.push({ name: `${b}ffn_gate.weight`, shape: [e, ff] }, { name: `${b}ffn_up.weight`, shape: [e, ff] }, { name: `${b}ffn_down.weight`, shape: [ff, e] });
    }
  }
  return { label, model: m, tensors: t };
}

const ARCHS: Arch[] = [
  model('llama 2 layers', { arch: 'llama', nLayer: 2, nHead: 8, nHeadKv: 4 }),
  model('llama 8 layers GQA 4', { arch: 'llama', nLayer: 8, nHead: 8, nHeadKv: 2 }),
  model('llama 13 layers', { arch: 'llama', nLayer: 13, nHead: 8, nHeadKv: 8 }),
  model('llama 32 layers', { arch: 'llama', nLayer: 32, nHead: 8, nHeadKv: 8 }),
  model('llama 80 layers (70B)', { arch: 'llama', nLayer: 80, nHead: 8, nHeadKv: 1 }),
  model('llama tied embeddings', { arch: 'llama', nLayer: 3, nHead: 8, nHeadKv: 8 }, { tied: true }),
  model('qwen2 biases, odd ff (fallbacks)', { arch: 'qwen2', nLayer: 5, nHead: 8, nHeadKv: 2 }, { ff: 352, bias: true }),
  model('width 96 (fallback to f16)', { arch: 'llama', nLayer: 2, nHead: 8, nHeadKv: 8 }, { embd: 96, ff: 160 }),
  model('falcon fused qkv', { arch: 'falcon', nLayer: 16, nHead: 8, nHeadKv: 1 }, { qkv: true }),
  model('phi3 fused qkv', { arch: 'phi3', nLayer: 6, nHead: 8, nHeadKv: 8 }, { qkv: true }),
  model('mixtral 8 experts', { arch: 'llama', nLayer: 4, nHead: 8, nHeadKv: 2, nExpert: 8 }, { moe: true }),
  model('qwen2moe 4 experts', { arch: 'qwen2moe', nLayer: 3, nHead: 8, nHeadKv: 8, nExpert: 4 }, { moe: true }),
];

for (const arch of ARCHS) {
  test(`policy: ${arch.label} — every file type matches libllama`, { skip }, () => {
    const r = ref as Exclude<typeof ref, string>;
    // the oracle walks the tensors in the order given, like llama-quantize walks its sorted weights
    const sorted = [...arch.tensors].sort((a, b) => compareTensorNames(a.name, b.name));
    const ne = sorted.map((t) => ({ name: t.name, ne: [...t.shape], type: t.type }));
    for (const ft of Object.keys(FILE_TYPES) as FileType[]) {
      const theirs = r.computeTypes(FILE_TYPES[ft].id, { ...arch.model, nEmbd: 256 }, ne);
      const ours = planTensorTypes(ft, arch.tensors, arch.model);
      assert.deepEqual(ours.map((p) => p.name), sorted.map((t) => t.name));
      for (let i = 0; i < ours.length; i++) assert.equal(ours[i].type, theirs[i], `${ft} ${ours[i].name}`);
    }
  });
}

test('policy: tensor_allows_quantization matches libllama on edge names and shapes', { skip }, () => {
  const r = ref as Exclude<typeof ref, string>;
  const names = ['abcde', 'abcd', 'weight', 'xweight', 'a.weight.bias', 'output.weight', 'blk.0.attn_norm.weight', 'blk.0.ffn_gate_inp.weight',
    'position_embd.weight', 'token_types.weight', 'blk.1.ssm_conv1d.weight', 'blk.2.time_mix_w1.weight', 'v.blk.0.attn_rel_b.weight',
    'mm.patch_merger.weight', 'v.position_embd.weight', 'blk.0.attn_q.weight', 'ffn_gate_tid2eid.weight', 'sam.neck.0.weight'];
  const shapes = [[32, 32], [32], [32, 1], [32, 1, 4], [1, 32], [32, 1, 1, 2]];
  const tensors = names.flatMap((name) => shapes.map((ne) => ({ name, ne })));
  const theirs = r.allows({ arch: 'llama', nLayer: 4 }, tensors);
  tensors.forEach((t, i) => assert.equal(tensorAllowsQuantization({ name: t.name, shape: t.ne }), theirs[i], `${t.name} ${t.ne}`));
});

test('policy: output order is weight_name_comparer (layer, then bytes)', () => {
  const names = ['blk.10.attn_k.weight', 'token_embd.weight', 'blk.2.ffn_up.weight', 'output.weight', 'blk.2.attn_q.weight', 'output_norm.weight', 'blk.-1.x', 'blk.1x', 'é.weight', 'z.weight'];
  const sorted = [...names].sort(compareTensorNames);
  assert.deepEqual(sorted, ['blk.-1.x', 'output.weight', 'output_norm.weight', 'token_embd.weight', 'z.weight', 'é.weight', 'blk.1x', 'blk.2.attn_q.weight', 'blk.2.ffn_up.weight', 'blk.10.attn_k.weight']);
  assert.equal(layerOf('blk. 7.attn'), 7);
  assert.equal(layerOf('blk.+3.x'), 3);
  assert.equal(layerOf('blk.x'), -1);
  assert.equal(layerOf('v.blk.0.x'), -1);
});

test('policy: a tiny 2-layer llama as Q4_K_M (the shape seen with llama-quantize)', () => {
  const arch = model('tiny', { arch: 'llama', nLayer: 2, nHead: 4, nHeadKv: 2 });
  const plan = planTensorTypes('Q4_K_M', arch.tensors, arch.model);
  const byName = new Map(plan.map((p) => [p.name, p.type]));
  assert.equal(plan[0].name, 'output.weight');
  assert.equal(byName.get('output.weight'), 'q6_k');
  assert.equal(byName.get('token_embd.weight'), 'q4_k');
  assert.equal(byName.get('blk.1.attn_v.weight'), 'q6_k');
  assert.equal(byName.get('blk.1.ffn_down.weight'), 'q6_k');
  assert.equal(byName.get('blk.0.attn_v.weight'), 'q4_k');
  assert.equal(byName.get('blk.0.attn_norm.weight'), 'f32');
  assert.equal(plan.find((p) => p.name === 'output_norm.weight')!.convert, false);
});

test('policy: options and errors', () => {
  const arch = model('tiny', { arch: 'llama', nLayer: 2, nHead: 4, nHeadKv: 2 });
  const pure = planTensorTypes('Q4_K_M', arch.tensors, arch.model, { pure: true });
  assert.ok(pure.filter((p) => p.convert).every((p) => p.type === 'q4_k'));
  const keep = planTensorTypes('Q8_0', arch.tensors, arch.model, { quantizeOutputTensor: false, tensorTypes: [{ pattern: /ffn_down/, type: 'q4_0' }] });
  assert.equal(keep.find((p) => p.name === 'output.weight')!.type, 'f32');
  assert.equal(keep.find((p) => p.name === 'blk.1.ffn_down.weight')!.type, 'q4_0');
  assert.throws(() => planTensorTypes('Q8_0', [{ name: 'x.weight', shape: [40, 8] }], arch.model), /no tensor type fallback/);
  assert.throws(() => planTensorTypes('Q4_K_M', [{ name: 'ffn_down.weight', shape: [256, 8, 4] }], { arch: 'llama', nLayer: 2, nExpert: 4 }), /Failed to determine layer/);
  assert.throws(() => planTensorTypes('IQ2_XS' as FileType, [], arch.model), /unsupported file type/);
  assert.equal(ggmlNDims([4096, 1, 1]), 1);
  assert.equal(ggmlNDims([4096, 1, 2]), 3);
});
