/**
 * advise: which format + quantization + runtime fits a target, with the memory it will need,
 * whether it fits, the expected quality cost, the reasons, the risks, and the command to get there.
 * Decision rules (the seed's): CPU-only → GGUF; phone → TFLite / ExecuTorch / Core ML on iOS;
 * browser → TF.js or ONNX Runtime Web; enterprise serving → SavedModel / ONNX / safetensors with a
 * server runtime; cross-framework → ONNX; training → PyTorch / safetensors, never GGUF or TFLite;
 * an untrusted pickle → convert to safetensors first.
 */
import { ModelwiseError } from '../errors.js';
import { FORMAT_FACTS } from './formats-data.js';
import { estimateMemory, type MemoryEstimate, type ModelShape } from './memory.js';
import { QUANT_QUALITY, QUALITY_SOURCE, OTHER_QUALITY, qualityOf, type QuantQuality } from './quality.js';
import type { Device } from './devices.js';

export type Target = 'cpu' | 'gpu' | 'apple' | 'mobile' | 'edge' | 'browser' | 'server' | 'interop';
export const TARGETS: Target[] = ['cpu', 'gpu', 'apple', 'mobile', 'edge', 'browser', 'server', 'interop'];
export type QualityDemand = 'near-lossless' | 'small' | 'noticeable';

export interface AdviseModel {
  /** Path or a description ("8B llama (planned)"). */
  path: string;
  format: string | null;
  variant?: string;
  architecture: string | null;
  shape: ModelShape;
  /** Is it a transformer language model (has layers/heads/vocab)? */
  llm: boolean;
  /** The model's own file contains a pickle (a code-execution risk). */
  pickle: boolean;
}

export interface AdviseRequest {
  target: Target;
  ram?: number;
  vram?: number;
  context?: number;
  batch?: number;
  train?: boolean;
  quality?: QualityDemand;
  device?: Device;
}

export interface AdviseOption {
  format: string;
  quantization: string;
  runtime: string;
  fileSize: number;
  memory: { weights: number; kvCache: number; compute: number; overhead: number; total: number };
  fits: boolean | null;
  /** When it does not fully fit in VRAM: transformer layers that could be offloaded. */
  gpuLayers?: number;
  qualityCost: { level: string; detail: string; source: string };
  reasons: string[];
  risks: string[];
  command: { line: string; tool: string; note?: string };
}

export interface Advice {
  model: { path: string; format: string | null; architecture: string | null; parameters: number };
  target: Target;
  limits: { ram: number | null; vram: number | null; context: number; device?: string };
  options: AdviseOption[];
  notes: string[];
}

interface Candidate {
  format: string;
  quant: string;
  runtime: string;
  /** Lower = preferred for this target. */
  priority: number;
  bpw: number;
  quality: AdviseOption['qualityCost'];
  reasons: string[];
  command: AdviseOption['command'];
  /** Memory pool the runtime uses. */
  pool: 'ram' | 'vram' | 'unified';
  trainable: boolean;
}

const PREFERRED_BPW: Record<QualityDemand, number> = { 'near-lossless': 8.5, small: 4.9, noticeable: 3.9 };
const LEVEL_RANK: Record<string, number> = { 'near-lossless': 0, small: 1, noticeable: 2, large: 3 };

function ggufCandidates(m: AdviseModel, target: Target, priority: number, runtime: string, pool: Candidate['pool']): Candidate[] {
  const input = m.path;
  return QUANT_QUALITY.filter((q) => q.name !== 'BF16').map((q: QuantQuality) => ({
    format: 'gguf',
    quant: q.name,
    runtime,
    priority,
    bpw: q.bitsPerWeight,
    quality: { level: q.level, detail: `+${q.pplIncrease} perplexity on ${q.reference}`, source: QUALITY_SOURCE },
    reasons: [`GGUF runs ${target === 'cpu' ? 'CPU-only' : 'on this target'} with ${runtime}, memory-mapped, one file`],
    command: m.format === 'gguf'
      ? { line: `modelwise convert ${input} --to gguf --quant ${q.name}`, tool: 'modelwise', note: m.variant && /q|iq/i.test(m.variant) ? 'requantizing an already quantized file loses more quality: start from F16/BF16 when you can' : undefined }
      : { line: `modelwise convert ${input} --to gguf --quant ${q.name}`, tool: 'modelwise', note: m.llm ? undefined : 'GGUF suits transformer LLMs; other models are stored as plain tensors' },
    pool,
    trainable: false,
  }));
}

function other(format: string, quant: string, runtime: string, priority: number, bpw: number, qualityKey: keyof typeof OTHER_QUALITY, reasons: string[], command: AdviseOption['command'], pool: Candidate['pool'], trainable = false): Candidate {
  const q = OTHER_QUALITY[qualityKey]!;
  return { format, quant, runtime, priority, bpw, quality: { level: q.level, detail: q.note, source: q.source }, reasons, command, pool, trainable };
}

function candidates(m: AdviseModel, req: AdviseRequest): Candidate[] {
  const p = m.path;
  const c: Candidate[] = [];
  const st = (note?: string): AdviseOption['command'] => ({ line: `modelwise convert ${p} --to safetensors`, tool: 'modelwise', note });
  switch (req.target) {
    case 'cpu':
      if (m.llm) c.push(...ggufCandidates(m, 'cpu', 0, 'llama.cpp (CPU)', 'ram'));
      c.push(other('onnx', 'int8', 'ONNX Runtime (CPU)', m.llm ? 2 : 0, 8, 'int8', ['ONNX Runtime has optimised CPU kernels for int8'], { line: `optimum-cli export onnx --model ${p} out-onnx/ && optimum-cli onnxruntime quantize --onnx_model out-onnx/ --avx512 -o out-onnx-int8/`, tool: 'optimum', note: 'modelwise cannot build ONNX graphs' }, 'ram'));
      c.push(other('onnx', 'f32', 'ONNX Runtime (CPU)', m.llm ? 3 : 1, 32, 'f32', ['portable, no quantization loss'], { line: `optimum-cli export onnx --model ${p} out-onnx/`, tool: 'optimum' }, 'ram'));
      break;
    case 'gpu':
      if (m.llm) c.push(...ggufCandidates(m, 'gpu', 0, 'llama.cpp (CUDA/ROCm/Vulkan)', 'vram'));
      c.push(other('safetensors', 'bf16', m.llm ? 'vLLM / transformers' : 'PyTorch', m.llm ? 1 : 0, 16, 'bf16', ['the native Hugging Face layout; fastest kernels on NVIDIA'], st(), 'vram', true));
      if (m.llm) c.push(other('safetensors', 'int4 (AWQ/GPTQ)', 'vLLM', 2, 4.25, 'int4', ['4-bit weights with GPU kernels for large batches'], { line: `python -m awq.entry --model_path ${p} --w_bit 4 --q_group_size 128`, tool: 'AutoAWQ', note: 'needs calibration data and a GPU' }, 'vram'));
      c.push(other('onnx', 'f16', 'ONNX Runtime CUDA / TensorRT', m.llm ? 3 : 1, 16, 'f16', ['TensorRT compiles the graph for the GPU'], { line: `optimum-cli export onnx --model ${p} --device cuda --dtype fp16 out-onnx/`, tool: 'optimum' }, 'vram'));
      break;
    case 'apple':
      if (m.llm) c.push(...ggufCandidates(m, 'apple', 0, 'llama.cpp (Metal)', 'unified'));
      if (m.llm) c.push(other('safetensors (MLX)', '4-bit', 'MLX', 1, 4.5, 'int4', ['MLX uses the unified memory of Apple silicon natively'], { line: `mlx_lm.convert --hf-path ${p} -q`, tool: 'mlx-lm' }, 'unified'));
      c.push(other('coreml', m.llm ? 'int4 palettized' : 'f16', 'Core ML (ANE/GPU)', m.llm ? 2 : 0, m.llm ? 4.5 : 16, m.llm ? 'palettized4' : 'f16', ['Core ML reaches the Neural Engine'], { line: `python -c "import coremltools as ct; ..."  # ct.convert(torch.jit.trace(model, x), convert_to='mlprogram')`, tool: 'coremltools', note: 'needs the model class in Python' }, 'unified'));
      break;
    case 'mobile':
      if (m.llm) c.push(...ggufCandidates(m, 'mobile', 2, 'llama.cpp (Android/iOS)', 'ram').filter((x) => x.bpw <= 6));
      c.push(other('tflite', 'int8', 'LiteRT (TFLite)', 0, 8, 'int8', ['LiteRT runs on Android and iOS with GPU/NNAPI delegates'], { line: `python -c "import ai_edge_torch; ..."  # ai_edge_torch.convert(model, sample_inputs).export('model.tflite')`, tool: 'ai-edge-torch', note: 'from PyTorch; from TensorFlow use tflite_convert --saved_model_dir' }, 'ram'));
      c.push(other('executorch', 'int8 (XNNPACK)', 'ExecuTorch', 1, 8, 'int8', ['PyTorch\'s on-device runtime; XNNPACK on CPU, Core ML/QNN delegates'], { line: `python -m executorch.examples.xnnpack.aot_compiler --model_name <model> --quantize`, tool: 'executorch', note: 'torch.export + to_edge_transform_and_lower' }, 'ram'));
      c.push(other('coreml', 'f16', 'Core ML (iOS)', 1, 16, 'f16', ['on iOS, Core ML uses the Neural Engine'], { line: `python -c "import coremltools as ct; ..."`, tool: 'coremltools', note: 'iOS only' }, 'ram'));
      break;
    case 'edge':
      if (m.llm) c.push(...ggufCandidates(m, 'edge', 0, 'llama.cpp (ARM CPU)', 'ram').filter((x) => x.bpw <= 5.5));
      c.push(other('tflite', 'int8 (full integer)', 'LiteRT / TFLite Micro', m.llm ? 1 : 0, 8, 'int8', ['full-integer int8 runs on microcontrollers and Edge TPUs'], { line: `tflite_convert --saved_model_dir saved_model/ --output_file model.tflite  # + representative dataset for int8`, tool: 'TensorFlow' }, 'ram'));
      c.push(other('executorch', 'int8', 'ExecuTorch', 2, 8, 'int8', ['runs on embedded Linux and microcontrollers (Arm Ethos-U)'], { line: 'python -m executorch.examples.arm.aot_arm_compiler --model_name <model> --delegate --quantize', tool: 'executorch' }, 'ram'));
      break;
    case 'browser':
      c.push(other('onnx', m.llm ? 'int4 (q4)' : 'int8', 'ONNX Runtime Web / transformers.js (WebGPU, WASM)', 0, m.llm ? 4.5 : 8, m.llm ? 'int4' : 'int8', ['ONNX Runtime Web runs in every modern browser (WebGPU or WASM)'], { line: `optimum-cli export onnx --model ${p} out-onnx/  # then quantize for transformers.js`, tool: 'optimum' }, 'ram'));
      c.push(other('tfjs', 'uint8', 'TensorFlow.js (WebGL/WebGPU/WASM)', m.llm ? 2 : 1, 8, 'int8', ['TF.js loads sharded weights in the browser'], { line: `tensorflowjs_converter --input_format=tf_saved_model --quantize_uint8 saved_model/ web_model/`, tool: 'tensorflowjs', note: 'from a SavedModel or Keras model' }, 'ram'));
      if (m.llm) c.push(...ggufCandidates(m, 'browser', 1, 'wllama (WASM)', 'ram').filter((x) => x.bpw <= 5.5));
      break;
    case 'server':
      c.push(other('safetensors', 'bf16', m.llm ? 'vLLM / TGI' : 'TorchServe / Triton', 0, 16, 'bf16', ['server runtimes load safetensors directly; safe to load'], st(), 'vram', true));
      c.push(other('onnx', 'f16', 'Triton + ONNX Runtime / TensorRT', 1, 16, 'f16', ['framework-neutral serving with Triton'], { line: `optimum-cli export onnx --model ${p} out-onnx/`, tool: 'optimum' }, 'vram'));
      c.push(other('tf-savedmodel', 'f32', 'TensorFlow Serving', 2, 32, 'f32', ['the TensorFlow serving standard'], { line: `python -c "import tensorflow as tf; tf.saved_model.save(model, 'saved_model/1')"`, tool: 'TensorFlow', note: 'for TensorFlow/Keras models' }, 'vram'));
      if (m.llm) c.push(...ggufCandidates(m, 'server', 3, 'llama.cpp server', 'vram').filter((x) => x.bpw >= 4.5));
      break;
    case 'interop':
      c.push(other('onnx', 'f32', 'ONNX Runtime (any framework)', 0, 32, 'f32', ['ONNX crosses frameworks: PyTorch, TensorFlow, scikit-learn exporters, many runtimes'], { line: `optimum-cli export onnx --model ${p} out-onnx/`, tool: 'optimum', note: 'or torch.onnx.export / tf2onnx' }, 'ram'));
      c.push(other('safetensors', 'bf16', 'PyTorch, JAX, TensorFlow, MLX, candle', 1, 16, 'bf16', ['weights only, readable by every framework; no graph'], st(), 'ram', true));
      break;
  }
  if (req.train) {
    c.push(other('safetensors', 'bf16', 'PyTorch + transformers / PEFT', -1, 16, 'bf16', ['training needs full-precision weights in a trainable framework'], st(), req.target === 'gpu' || req.target === 'server' ? 'vram' : 'ram', true));
    c.push(other('pytorch', 'f32', 'PyTorch', 0, 32, 'f32', ['PyTorch trains from its own checkpoints'], { line: `# load with torch.load(weights_only=True) or convert: modelwise convert ${p} --to safetensors`, tool: 'PyTorch' }, req.target === 'gpu' || req.target === 'server' ? 'vram' : 'ram', true));
  }
  return c;
}

function usable(req: AdviseRequest, pool: Candidate['pool']): number | null {
  if (pool === 'vram') return req.vram ?? null;
  if (pool === 'unified') return req.ram ?? req.vram ?? null;
  return req.ram ?? null;
}

export function advise(m: AdviseModel, req: AdviseRequest): Advice {
  if (!TARGETS.includes(req.target)) throw new ModelwiseError('USAGE', `unknown target ${req.target}`, { expected: TARGETS.join(', ') });
  const context = req.context ?? Math.min(m.shape.contextLength ?? 4096, 4096);
  const demand = req.quality ?? 'small';
  const notes: string[] = [];
  const options: (AdviseOption & { _sort: number[] })[] = [];
  for (const c of candidates(m, req)) {
    const mem: MemoryEstimate = estimateMemory({ ...m.shape, weightBytes: undefined }, { context, batch: req.batch, bitsPerWeight: c.bpw });
    if (!m.llm) mem.kvCache = 0;
    const fileSize = Math.ceil((m.shape.parameters * c.bpw) / 8);
    const total = mem.weights + mem.kvCache + mem.compute + mem.overhead;
    const budget = usable(req, c.pool);
    // Unified memory: macOS lets the GPU use about 75% of it by default.
    const limit = budget === null ? null : c.pool === 'unified' ? budget * 0.75 : budget;
    let fits: boolean | null = limit === null ? null : total <= limit;
    let gpuLayers: number | undefined;
    const reasons = [...c.reasons];
    const risks: string[] = [];
    if (fits === false && c.pool === 'vram' && c.format === 'gguf' && m.shape.layers && req.ram) {
      const fixed = mem.compute + mem.overhead;
      gpuLayers = Math.max(0, Math.min(m.shape.layers, Math.floor(((limit ?? 0) - fixed) / Math.max(1, mem.perLayer))));
      const rest = total - gpuLayers * mem.perLayer;
      if (rest <= req.ram) {
        reasons.push(`does not fit in VRAM whole: offload ${gpuLayers} of ${m.shape.layers} layers to the GPU (-ngl ${gpuLayers}), the rest in RAM`);
        fits = gpuLayers > 0 ? true : fits;
      }
    }
    if (fits === true) reasons.push(`needs ${fmt(total)} of ${fmt(limit!)} usable ${c.pool === 'vram' ? 'VRAM' : c.pool === 'unified' ? 'unified memory' : 'RAM'}`);
    if (fits === false) reasons.push(`needs ${fmt(total)}, more than the ${fmt(limit!)} available`);
    if (LEVEL_RANK[c.quality.level]! > LEVEL_RANK[demand]!) risks.push(`quality cost "${c.quality.level}" is above the requested "${demand}"`);
    if (req.train && !c.trainable) risks.push(`${c.format} cannot be trained or fine-tuned: use safetensors / PyTorch for training`);
    if (m.pickle) risks.push(`the source is a pickle that runs code when loaded: convert it first (modelwise convert ${m.path} --to safetensors), which reads it without executing anything`);
    const facts = FORMAT_FACTS.find((f) => f.id === (m.format ?? ''));
    if (facts && (facts.lifecycle.status === 'retired' || facts.lifecycle.status === 'superseded')) risks.push(`the source format is ${facts.lifecycle.status}: ${facts.lifecycle.note}`);
    const qualityPenalty = LEVEL_RANK[c.quality.level]! > LEVEL_RANK[demand]! ? 1 : 0;
    options.push({
      format: c.format,
      quantization: c.quant,
      runtime: c.runtime,
      fileSize,
      memory: { weights: mem.weights, kvCache: mem.kvCache, compute: mem.compute, overhead: mem.overhead, total },
      fits,
      ...(gpuLayers !== undefined ? { gpuLayers } : {}),
      qualityCost: c.quality,
      reasons,
      risks,
      command: c.command,
      _sort: [fits === false ? 1 : 0, req.train && !c.trainable ? 1 : 0, qualityPenalty, c.priority, Math.abs(c.bpw - PREFERRED_BPW[demand]), fileSize],
    });
  }
  options.sort((a, b) => {
    for (let i = 0; i < a._sort.length; i++) if (a._sort[i] !== b._sort[i]) return a._sort[i]! - b._sort[i]!;
    return 0;
  });
  if (options.length && options[0]!.fits === false) notes.push('nothing fits the stated memory: the options are ranked by how close they come');
  return {
    model: { path: m.path, format: m.format, architecture: m.architecture, parameters: m.shape.parameters },
    target: req.target,
    limits: { ram: req.ram ?? null, vram: req.vram ?? null, context, ...(req.device ? { device: req.device.name } : {}) },
    options: options.map(({ _sort, ...o }) => o),
    notes,
  };
}

function fmt(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : `${(n / 1024 ** 2).toFixed(0)} MiB`;
}

export { qualityOf };
