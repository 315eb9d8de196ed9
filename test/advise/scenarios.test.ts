/**
 * advise as a table of scenarios: model facts + target + limits → the expected top choice and the
 * reasons (and risks, notes) that must appear. Covers every target and the seed's decision rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advise, TARGETS, type AdviseModel, type AdviseRequest, type Advice } from '../../src/advise/advise.js';
import { plannedModel } from '../../src/advise/model.js';
import { deviceById } from '../../src/advise/devices.js';

const GiB = 1024 ** 3;

/** A planned Hugging Face checkpoint turned into an inspected one (a folder of safetensors or a pickle). */
function hfModel(params: number, arch: string, path: string, format: 'safetensors' | 'pytorch' = 'safetensors'): AdviseModel {
  const p = plannedModel(params, arch);
  return { ...p, planned: false, path, format, architecture: arch, modelType: arch, pickle: format === 'pytorch' };
}

/** A non-transformer model (a CNN) stored in `format`. */
function cnn(format: string, params: number, path: string, pickle = false): AdviseModel {
  return { path, format, architecture: null, shape: { parameters: params }, llm: false, pickle };
}

function device(id: string): Pick<AdviseRequest, 'device' | 'ram' | 'vram'> {
  const d = deviceById(id);
  assert.ok(d, `device preset ${id}`);
  return { device: d, ram: d.ram, ...(d.vram ? { vram: d.vram } : {}) };
}

interface Expect {
  format: string;
  quantization?: string | RegExp;
  runtime?: RegExp;
  fits?: boolean | null;
  /** [min, max] offloaded layers. */
  gpuLayers?: [number, number];
  /** Must appear among the top option's reasons. */
  reasons?: RegExp[];
  risks?: RegExp[];
  command?: RegExp;
  commandTool?: string;
  /** Formats that must not appear in any option. */
  absent?: string[];
  /** Formats that must appear in some option. */
  present?: string[];
  notes?: RegExp[];
  /** Every option's quality level is one of these. */
  qualityLevels?: string[];
}

interface Scenario {
  name: string;
  model: AdviseModel;
  req: AdviseRequest;
  expect: Expect;
}

const SCENARIOS: Scenario[] = [
  // ---------------- cpu: CPU-only → GGUF for language models
  {
    name: 'CPU-only laptop, 8B llama planned before download → GGUF Q4_K_M on llama.cpp',
    model: plannedModel(8e9, 'llama'),
    req: { target: 'cpu', ...device('laptop-16gb') },
    expect: {
      format: 'gguf', quantization: 'Q4_K_M', runtime: /llama\.cpp \(CPU\)/, fits: true,
      reasons: [/CPU-only/, /needs .* of the 16\.0 GiB usable RAM/],
      command: /^modelwise convert <hf-model-folder> --to gguf --quant Q4_K_M$/, commandTool: 'modelwise',
    },
  },
  {
    name: 'CPU, a CNN in ONNX → ONNX Runtime int8 (GGUF is for LLMs)',
    model: cnn('onnx', 25.6e6, 'resnet50.onnx'),
    req: { target: 'cpu', ram: 8 * GiB },
    expect: { format: 'onnx', quantization: 'int8', runtime: /ONNX Runtime \(CPU\)/, fits: true, absent: ['gguf'], reasons: [/int8 CPU kernels/], notes: [/not a transformer/] },
  },
  {
    name: 'CPU, --quality near-lossless filters the low-bit quantizations → Q6_K',
    model: plannedModel(8e9, 'llama'),
    req: { target: 'cpu', ram: 32 * GiB, quality: 'near-lossless' },
    expect: { format: 'gguf', quantization: 'Q6_K', qualityLevels: ['near-lossless'], notes: [/quality "near-lossless": \d+ options .* left out .*Q4_K_M/] },
  },
  {
    name: 'CPU, an already quantized GGUF → run it as is',
    model: { path: 'llama-q4_k_m.gguf', format: 'gguf', architecture: 'llama', modelType: 'llama', quantization: 'Q4_K_M', shape: plannedModel(8e9, 'llama').shape, llm: true, pickle: false },
    req: { target: 'cpu', ram: 16 * GiB },
    expect: { format: 'gguf', quantization: 'Q4_K_M', command: /already Q4_K_M: run it as is/, commandTool: 'llama.cpp' },
  },
  {
    name: 'CPU, a gemma3 safetensors checkpoint: modelwise has no gemma3 GGUF mapping → llama.cpp converter',
    model: hfModel(1e9, 'gemma3', 'gemma-3-1b/'),
    req: { target: 'cpu', ram: 8 * GiB },
    expect: { format: 'gguf', quantization: 'Q4_K_M', command: /convert_hf_to_gguf\.py gemma-3-1b\/ .*llama-quantize .* Q4_K_M/, commandTool: 'llama.cpp' },
  },
  // ---------------- gpu: fits in VRAM, or partial offload
  {
    name: 'RTX 4090, 8B llama → GGUF fully in VRAM',
    model: hfModel(8e9, 'llama', 'Llama-3.1-8B/'),
    req: { target: 'gpu', ...device('rtx-4090') },
    expect: { format: 'gguf', quantization: 'Q4_K_M', runtime: /CUDA/, fits: true, reasons: [/needs .* of the 24\.0 GiB usable VRAM/], command: /^modelwise convert Llama-3\.1-8B\/ --to gguf --quant Q4_K_M$/ },
  },
  {
    name: '70B llama on a 24 GB GPU with 64 GB RAM → partial offload (-ngl)',
    model: plannedModel(70e9, 'llama'),
    req: { target: 'gpu', vram: 24 * GiB, ram: 64 * GiB },
    expect: { format: 'gguf', quantization: 'Q4_K_M', fits: true, gpuLayers: [30, 70], reasons: [/does not fit in 24\.0 GiB of VRAM whole: offload \d+ of 80 layers to the GPU \(-ngl \d+\)/] },
  },
  {
    name: '70B llama on a 24 GB GPU with 8 GB RAM → nothing fits, still ranked',
    model: plannedModel(70e9, 'llama'),
    req: { target: 'gpu', vram: 24 * GiB, ram: 8 * GiB },
    expect: { format: 'gguf', fits: false, notes: [/nothing fits/] },
  },
  // ---------------- apple
  {
    name: 'MacBook Air M2 8 GB, 8B llama → GGUF on Metal within the GPU share of unified memory',
    model: plannedModel(8e9, 'llama'),
    req: { target: 'apple', ...device('macbook-air-m2-8gb') },
    expect: { format: 'gguf', quantization: 'Q4_K_M', runtime: /Metal/, fits: true, reasons: [/unified memory/], present: ['safetensors (MLX)', 'coreml'] },
  },
  {
    name: 'Apple, a CNN → Core ML (Neural Engine)',
    model: cnn('pytorch', 11.7e6, 'resnet18.pt', true),
    req: { target: 'apple', ram: 16 * GiB },
    expect: { format: 'coreml', runtime: /Core ML/, reasons: [/Neural Engine/] },
  },
  // ---------------- mobile: TFLite / ExecuTorch, Core ML on iOS
  {
    name: 'Android phone (Pixel 8), a PyTorch CNN → TFLite (LiteRT), ExecuTorch next',
    model: cnn('safetensors', 3.5e6, 'mobilenet_v2.safetensors'),
    req: { target: 'mobile', ...device('pixel-8') },
    expect: { format: 'tflite', quantization: 'int8', runtime: /LiteRT/, fits: true, reasons: [/Android and iOS/], present: ['executorch'], command: /ai_edge_torch/ },
  },
  {
    name: 'iPhone 15, a PyTorch CNN → Core ML on iOS',
    model: cnn('safetensors', 3.5e6, 'mobilenet_v2.safetensors'),
    req: { target: 'mobile', ...device('iphone-15') },
    expect: { format: 'coreml', runtime: /Core ML \(iOS\)/, reasons: [/on iOS, Core ML/], present: ['tflite', 'executorch'], command: /coremltools/ },
  },
  {
    name: 'phone, a TensorFlow SavedModel → TFLite via tflite_convert',
    model: cnn('tf-savedmodel', 4.2e6, 'saved_model/'),
    req: { target: 'mobile', ram: 6 * GiB },
    expect: { format: 'tflite', command: /^tflite_convert --saved_model_dir saved_model\//, commandTool: 'TensorFlow' },
  },
  // ---------------- edge
  {
    name: 'Raspberry Pi 5, 1B llama → GGUF on the ARM CPU',
    model: plannedModel(1.24e9, 'llama'),
    req: { target: 'edge', ...device('raspberry-pi-5') },
    expect: { format: 'gguf', quantization: 'Q4_K_M', runtime: /ARM/, fits: true, reasons: [/ARM boards/] },
  },
  {
    name: 'ESP32-S3 (8 MB), a 250k-parameter keyword-spotting CNN in TFLite → full-integer TFLite Micro',
    model: cnn('tflite', 250e3, 'kws.tflite'),
    req: { target: 'edge', ...device('esp32-s3') },
    expect: { format: 'tflite', quantization: 'int8 (full integer)', runtime: /TFLite Micro/, fits: true, reasons: [/microcontrollers/], command: /already TFLite/ },
  },
  // ---------------- browser: TF.js or ONNX Runtime Web
  {
    name: 'browser (WebGPU, 4 GB), 1B llama → ONNX Runtime Web / transformers.js int4',
    model: plannedModel(1.24e9, 'llama'),
    req: { target: 'browser', ...device('browser-webgpu') },
    expect: { format: 'onnx', quantization: 'int4 (q4)', runtime: /ONNX Runtime Web/, fits: true, reasons: [/browser on WebGPU or WASM/], present: ['gguf'] },
  },
  {
    name: 'browser, a Keras CNN → TensorFlow.js',
    model: cnn('keras', 4.2e6, 'model.keras'),
    req: { target: 'browser', ram: 2 * GiB },
    expect: { format: 'tfjs', runtime: /TensorFlow\.js/, reasons: [/TensorFlow\.js runs in the browser/], command: /tensorflowjs_converter --input_format=keras/, present: ['onnx'] },
  },
  // ---------------- server: SavedModel / ONNX / safetensors with a server runtime
  {
    name: 'A100 server, 8B llama safetensors → safetensors on vLLM / TGI',
    model: hfModel(8e9, 'llama', 'Llama-3.1-8B/'),
    req: { target: 'server', ...device('a100-80gb') },
    expect: { format: 'safetensors', quantization: 'bf16', runtime: /vLLM/, fits: true, reasons: [/server runtimes .* load safetensors directly/], present: ['onnx', 'tf-savedmodel'] },
  },
  {
    name: 'server, a TensorFlow SavedModel → TensorFlow Serving',
    model: cnn('tf-savedmodel', 25e6, 'saved_model/'),
    req: { target: 'server', vram: 24 * GiB },
    expect: { format: 'tf-savedmodel', runtime: /TensorFlow Serving/, reasons: [/serves SavedModels/], command: /tensorflow\/serving/ },
  },
  {
    name: 'server, an ONNX model → Triton + ONNX Runtime',
    model: cnn('onnx', 25e6, 'model.onnx'),
    req: { target: 'server', vram: 24 * GiB },
    expect: { format: 'onnx', runtime: /Triton/, reasons: [/Triton serves ONNX/], command: /already ONNX/ },
  },
  // ---------------- interop: cross-framework → ONNX
  {
    name: 'cross-framework, a Hugging Face checkpoint → ONNX via optimum',
    model: hfModel(1.5e9, 'qwen2', 'Qwen2.5-1.5B/'),
    req: { target: 'interop' },
    expect: { format: 'onnx', reasons: [/ONNX crosses frameworks/], command: /^optimum-cli export onnx --model Qwen2\.5-1\.5B\//, commandTool: 'optimum', present: ['safetensors'] },
  },
  {
    name: 'cross-framework, a Keras model → ONNX via tf2onnx',
    model: cnn('keras', 4.2e6, 'model.keras'),
    req: { target: 'interop' },
    expect: { format: 'onnx', command: /tf2onnx/, commandTool: 'tf2onnx' },
  },
  {
    name: 'cross-framework, a retired MXNet model → ONNX, with the lifecycle risk',
    model: cnn('mxnet', 25e6, 'resnet-symbol.json'),
    req: { target: 'interop' },
    expect: { format: 'onnx', risks: [/retired: Apache MXNet moved to the Attic/] },
  },
  // ---------------- training → PyTorch / safetensors, never GGUF or TFLite
  {
    name: 'fine-tuning on a GPU → safetensors + PyTorch, GGUF left out',
    model: hfModel(8e9, 'llama', 'Llama-3.1-8B/'),
    req: { target: 'gpu', vram: 80 * GiB, train: true },
    expect: { format: 'safetensors', quantization: 'bf16', runtime: /PEFT/, reasons: [/training needs full-precision weights/], absent: ['gguf', 'onnx'], present: ['pytorch'], notes: [/training: .*gguf.* left out/] },
  },
  {
    name: 'training a phone model → safetensors / PyTorch, TFLite and ExecuTorch left out',
    model: cnn('pytorch', 3.5e6, 'mobilenet.pt'),
    req: { target: 'mobile', ram: 8 * GiB, train: true },
    expect: { format: 'safetensors', absent: ['tflite', 'executorch', 'coreml', 'gguf'], present: ['pytorch'], notes: [/training: .*tflite/] },
  },
  // ---------------- an untrusted pickle → convert to safetensors first
  {
    name: 'a pickled llama checkpoint for serving → modelwise convert to safetensors first',
    model: hfModel(8e9, 'llama', 'pytorch_model.bin', 'pytorch'),
    req: { target: 'server', vram: 80 * GiB },
    expect: {
      format: 'safetensors', command: /^modelwise convert pytorch_model\.bin --to safetensors$/, commandTool: 'modelwise',
      reasons: [/the source is a pickle: convert it to safetensors first/], risks: [/runs any code/], notes: [/is a pickle: convert it to safetensors first/],
    },
  },
  {
    name: 'a pickled llama checkpoint on a CPU → GGUF by modelwise (no unpickling), ONNX only after the safetensors step',
    model: hfModel(8e9, 'llama', 'pytorch_model.bin', 'pytorch'),
    req: { target: 'cpu', ram: 16 * GiB },
    expect: { format: 'gguf', command: /^modelwise convert pytorch_model\.bin --to gguf --quant Q4_K_M$/, reasons: [/convert it to safetensors first/] },
  },
];

function check(s: Scenario, a: Advice): void {
  const e = s.expect;
  const top = a.options[0];
  assert.ok(top, 'at least one option');
  const where = `top option ${top.format} ${top.quantization} on ${top.runtime}`;
  assert.equal(top.format, e.format, where);
  if (e.quantization instanceof RegExp) assert.match(top.quantization, e.quantization, where);
  else if (e.quantization) assert.equal(top.quantization, e.quantization, where);
  if (e.runtime) assert.match(top.runtime, e.runtime, where);
  if (e.fits !== undefined) assert.equal(top.fits, e.fits, `${where}: fits (${top.reasons.join(' / ')})`);
  if (e.gpuLayers) {
    assert.ok(top.gpuLayers !== undefined && top.gpuLayers >= e.gpuLayers[0] && top.gpuLayers <= e.gpuLayers[1], `${where}: ${top.gpuLayers} layers offloaded`);
  }
  for (const r of e.reasons ?? []) assert.ok(top.reasons.some((x) => r.test(x)), `${where}: a reason matching ${r} in ${JSON.stringify(top.reasons)}`);
  for (const r of e.risks ?? []) assert.ok(top.risks.some((x) => r.test(x)), `${where}: a risk matching ${r} in ${JSON.stringify(top.risks)}`);
  if (e.command) assert.match(top.command.line, e.command, where);
  if (e.commandTool) assert.equal(top.command.tool, e.commandTool, where);
  const formats = new Set(a.options.map((o) => o.format));
  for (const f of e.absent ?? []) assert.ok(!formats.has(f), `${f} must not be offered (got ${[...formats].join(', ')})`);
  for (const f of e.present ?? []) assert.ok(formats.has(f), `${f} must be offered (got ${[...formats].join(', ')})`);
  for (const n of e.notes ?? []) assert.ok(a.notes.some((x) => n.test(x)), `a note matching ${n} in ${JSON.stringify(a.notes)}`);
  if (e.qualityLevels) for (const o of a.options) assert.ok(e.qualityLevels.includes(o.qualityCost.level), `${o.format} ${o.quantization}: ${o.qualityCost.level}`);
  // Shape of every option (the --json contract).
  for (const o of a.options) {
    assert.equal(typeof o.fileSize, 'number');
    for (const k of ['weights', 'kvCache', 'compute', 'overhead', 'total'] as const) assert.ok(Number.isFinite(o.memory[k]) && o.memory[k] >= 0, `${k} of ${o.format}`);
    assert.equal(o.memory.total, o.memory.weights + o.memory.kvCache + o.memory.compute + o.memory.overhead);
    assert.ok(o.reasons.length > 0 && Array.isArray(o.risks) && o.command.line.length > 0 && o.qualityCost.source.length > 0);
  }
}

test('the scenarios cover every target', () => {
  assert.deepEqual([...new Set(SCENARIOS.map((s) => s.req.target))].sort(), [...TARGETS].sort());
});

for (const s of SCENARIOS) {
  test(`${s.req.target}: ${s.name}`, async () => {
    check(s, await advise(s.model, s.req));
  });
}

test('options are ranked: everything that fits comes before what does not', async () => {
  const a = await advise(plannedModel(8e9, 'llama'), { target: 'cpu', ram: 6 * GiB });
  const firstMiss = a.options.findIndex((o) => o.fits === false);
  assert.ok(firstMiss > 0, 'some fit, some do not');
  assert.ok(a.options.slice(firstMiss).every((o) => o.fits === false));
});

test('an unknown target is a usage error', async () => {
  await assert.rejects(advise(plannedModel(8e9, 'llama'), { target: 'toaster' as never }), /unknown target toaster/);
});
