/**
 * advise: which format + quantization + runtime fits a target, with the memory it will need,
 * whether it fits, the expected quality cost, the reasons, the risks, and the command to get there.
 *
 * Decision rules (the seed's), each a row of data below:
 * - CPU-only → GGUF (llama.cpp) for language models, ONNX Runtime otherwise;
 * - phone → TFLite (LiteRT) / ExecuTorch, Core ML first on iOS;
 * - browser → ONNX Runtime Web (transformers.js) or TensorFlow.js;
 * - enterprise serving → safetensors (vLLM / TGI) / ONNX (Triton) / SavedModel (TF Serving), the
 *   source framework's own serving format first;
 * - cross-framework → ONNX;
 * - training → safetensors / PyTorch; formats that cannot be trained (GGUF, TFLite, …) are left out;
 * - an untrusted pickle → convert to safetensors first (modelwise reads pickles without running them);
 * - does not fit → partial GPU offload (-ngl) when RAM can hold the rest;
 * - a quality demand drops the quantizations whose published cost is above it; among the rest the
 *   smallest file ranks first (Q4_K_M for "small", Q6_K for "near-lossless").
 *
 * A `modelwise convert …` command is only given when modelwise can really do it: the source format
 * can read tensor data (`readTensor`, checked in the code by capabilities.ts) and, for a runnable
 * GGUF, the checkpoint's architecture has a GGUF mapping (src/convert/hf/llama.ts SUPPORTED).
 */
import { ModelwiseError } from '../errors.js';
import type { FormatId } from '../types.js';
import { SUPPORTED as GGUF_MAPPED_ARCHS } from '../convert/hf/llama.js';
import { FORMAT_FACTS } from './formats-data.js';
import { supportOf, type ModelwiseSupport } from './capabilities.js';
import { estimateMemory, PLATFORM_FOOTPRINT, type MemoryEstimate, type ModelShape } from './memory.js';
import { QUANT_QUALITY, QUALITY_SOURCE, OTHER_QUALITY, qualityOf, type QuantQuality } from './quality.js';
import type { Device } from './devices.js';

export type Target = 'cpu' | 'gpu' | 'apple' | 'mobile' | 'edge' | 'browser' | 'server' | 'interop';
export const TARGETS: Target[] = ['cpu', 'gpu', 'apple', 'mobile', 'edge', 'browser', 'server', 'interop'];
export type QualityDemand = 'near-lossless' | 'small' | 'noticeable';

export interface AdviseModel {
  /** Path or a description ("8B llama (planned)"). */
  path: string;
  format: FormatId | string | null;
  variant?: string;
  architecture: string | null;
  /** Hugging Face `model_type` or GGUF `general.architecture` (llama, qwen2, gemma3 …). */
  modelType?: string | null;
  /** The stored quantization (GGUF file type such as Q4_K_M), when known. */
  quantization?: string;
  shape: ModelShape;
  /** Is it a transformer language model (has layers/heads/vocab)? */
  llm: boolean;
  /** The model's own file contains a pickle (a code-execution risk). */
  pickle: boolean;
  /** Planned before a download: no file to convert yet. */
  planned?: boolean;
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

type Pool = 'ram' | 'vram' | 'unified';
type Family = 'pytorch' | 'tensorflow' | 'onnx' | 'gguf' | 'coreml' | 'other';
type Command = AdviseOption['command'];

interface Candidate {
  format: string;
  quant: string;
  runtime: string;
  /** Lower = preferred for this target. */
  priority: number;
  bpw: number;
  quality: AdviseOption['qualityCost'];
  reasons: string[];
  command: Command;
  /** Memory pool the runtime uses. */
  pool: Pool;
  trainable: boolean;
  /** Runtime footprint outside the model's buffers (bytes). */
  footprint?: number;
}

/** Which framework family a source format belongs to (decides the conversion tools). */
const FAMILY: Record<string, Family> = {
  pytorch: 'pytorch', torchscript: 'pytorch', executorch: 'pytorch', safetensors: 'pytorch', numpy: 'pytorch',
  'tf-savedmodel': 'tensorflow', keras: 'tensorflow', tflite: 'tensorflow', tfjs: 'tensorflow',
  onnx: 'onnx', gguf: 'gguf', ggml: 'gguf', coreml: 'coreml',
};

const LEVEL_RANK: Record<string, number> = { 'near-lossless': 0, small: 1, noticeable: 2, large: 3 };
/** Apple silicon: Metal's recommendedMaxWorkingSetSize is about 70 % of RAM (11453 MB on a 16 GB M2). */
const UNIFIED_GPU_SHARE = 0.7;
/** Runtime footprints outside the model's buffers (bytes). */
const SMALL_RUNTIME = 32 * 1024 * 1024;
const MCU_RUNTIME = 64 * 1024;

/** What the command generator knows about the source. */
interface Ctx {
  m: AdviseModel;
  req: AdviseRequest;
  family: Family;
  /** The source path for commands (a placeholder for a planned model). */
  src: string;
  support: ModelwiseSupport;
}

// ---------------------------------------------------------------------------------------------
// Commands: the modelwise line when modelwise can do it, otherwise the external tool's line.
// ---------------------------------------------------------------------------------------------

function toSafetensors(x: Ctx): Command {
  if (x.m.planned) return { line: `huggingface-cli download <repo> --include '*.safetensors' '*.json' --local-dir model/`, tool: 'huggingface-cli', note: 'Hugging Face checkpoints are already safetensors' };
  if (x.m.format === 'safetensors') return { line: `# already safetensors: load ${x.src} directly`, tool: 'none' };
  if (x.support.convert) return { line: `modelwise convert ${x.src} --to safetensors`, tool: 'modelwise', note: x.m.pickle ? 'reads the pickle without executing it' : undefined };
  return { line: `# export the weights from the ${x.m.format ?? 'source'} framework (e.g. safetensors.torch.save_file(model.state_dict(), 'model.safetensors'))`, tool: 'framework', note: `modelwise cannot read ${x.m.format} tensor data yet` };
}

/** Can modelwise write a GGUF that llama.cpp runs (architecture, tokenizer and tensor names mapped)? */
export function modelwiseGgufRoute(x: { m: AdviseModel; support: ModelwiseSupport }): boolean {
  const type = (x.m.modelType ?? '').toLowerCase();
  if (x.m.format === 'gguf') return x.support.convert; // requantization keeps the metadata
  if (!(type in GGUF_MAPPED_ARCHS)) return false;
  if (x.m.planned) return true; // a Hugging Face folder once downloaded (safetensors)
  return (x.m.format === 'safetensors' || x.m.format === 'pytorch') && x.support.convert;
}

function toGguf(x: Ctx, q: QuantQuality): Command {
  const quant = q.name;
  if (x.m.format === 'ggml') {
    return { line: `python convert_llama_ggml_to_gguf.py --input ${x.src} --output model.gguf && llama-quantize model.gguf model-${quant}.gguf ${quant}`, tool: 'llama.cpp', note: 'legacy GGML/GGJT files need llama.cpp\'s converter (it rebuilds the metadata llama.cpp expects)' };
  }
  if (x.family === 'gguf') {
    if (x.m.quantization && x.m.quantization.toUpperCase() === quant) return { line: `llama-server -m ${x.src}  # already ${quant}: run it as is`, tool: 'llama.cpp' };
    return {
      line: `modelwise convert ${x.src} --to gguf --quant ${quant}`,
      tool: 'modelwise',
      note: x.m.quantization && !/^(F32|F16|BF16)$/i.test(x.m.quantization) ? 'requantizing an already quantized file loses more quality: start from the F16/BF16 GGUF when you can' : 'keeps every metadata key; the same per-tensor choices as llama-quantize',
    };
  }
  if (modelwiseGgufRoute(x)) {
    return { line: `modelwise convert ${x.m.planned ? '<hf-model-folder>' : x.src} --to gguf --quant ${quant}`, tool: 'modelwise', note: x.m.planned ? 'after downloading the Hugging Face checkpoint (or download a ready GGUF of this quantization)' : x.m.pickle ? 'reads the pickle without executing it' : undefined };
  }
  const folder = x.m.planned ? '<hf-model-folder>' : x.src;
  return {
    line: `python convert_hf_to_gguf.py ${folder} --outtype f16 --outfile model-f16.gguf && llama-quantize model-f16.gguf model-${quant}.gguf ${quant}`,
    tool: 'llama.cpp',
    note: x.family === 'pytorch' || x.m.planned ? `modelwise maps ${Object.keys(GGUF_MAPPED_ARCHS).join('/')} checkpoints to GGUF; this architecture needs llama.cpp's converter` : 'llama.cpp converts Hugging Face checkpoints (config.json + weights)',
  };
}

function toOnnx(x: Ctx, quant: 'f32' | 'f16' | 'int8' | 'int4'): Command {
  const q = quant === 'int8' ? ` && optimum-cli onnxruntime quantize --onnx_model out-onnx/ --avx2 -o out-onnx-int8/` : quant === 'int4' ? `  # then MatMulNBits int4 (onnxruntime.quantization.matmul_nbits_quantizer)` : quant === 'f16' ? ' --dtype fp16' : '';
  switch (x.family) {
    case 'onnx':
      return quant === 'f32' || quant === 'f16' ? { line: `# already ONNX: serve ${x.src} as is`, tool: 'none' } : { line: `python -m onnxruntime.quantization.preprocess --input ${x.src} --output pre.onnx  # then quantize_dynamic / quantize_static`, tool: 'onnxruntime' };
    case 'tensorflow':
      // tf2onnx takes each TensorFlow-family source through its own flag.
      if (x.m.format === 'tflite') return { line: `python -m tf2onnx.convert --tflite ${x.src} --output model.onnx`, tool: 'tf2onnx' };
      if (x.m.format === 'tfjs') return { line: `python -m tf2onnx.convert --tfjs ${x.src}/model.json --output model.onnx`, tool: 'tf2onnx' };
      return { line: `python -m tf2onnx.convert --saved-model ${x.src} --output model.onnx`, tool: 'tf2onnx', note: x.m.format === 'keras' ? 'for Keras files: --keras, or export a SavedModel first' : undefined };
    case 'gguf':
      return { line: `modelwise convert ${x.src} --to safetensors && optimum-cli export onnx --model <hf-folder-with-config> out-onnx/`, tool: 'optimum', note: 'GGUF holds no graph: rebuild the Hugging Face model from its weights' };
    case 'coreml':
      return { line: '# Core ML models do not convert back; export ONNX from the original framework', tool: 'none' };
    default:
      return { line: `optimum-cli export onnx --model ${x.m.planned ? '<hf-repo-or-folder>' : x.src}${quant === 'f16' ? ' --dtype fp16' : ''} out-onnx/${quant === 'int8' ? q : quant === 'int4' ? q : ''}`, tool: 'optimum', note: 'modelwise does not build ONNX graphs; for a plain PyTorch module use torch.onnx.export' };
  }
}

function toTflite(x: Ctx, fullInteger: boolean): Command {
  const rep = fullInteger ? '  # int8: converter.optimizations + a representative dataset' : '';
  switch (x.family) {
    case 'tensorflow':
      return x.m.format === 'tflite' ? { line: `# already TFLite: deploy ${x.src}`, tool: 'none' } : { line: `tflite_convert ${x.m.format === 'keras' ? '--keras_model_file' : '--saved_model_dir'} ${x.src} --output_file model.tflite${rep}`, tool: 'TensorFlow' };
    case 'onnx':
      return { line: `onnx2tf -i ${x.src} -o tf_out/${fullInteger ? ' -oiqt' : ''}`, tool: 'onnx2tf' };
    default:
      return { line: `python -c "import ai_edge_torch; ai_edge_torch.convert(model.eval(), sample_inputs).export('model.tflite')"${rep}`, tool: 'ai-edge-torch', note: 'needs the PyTorch model class; LLMs: ai_edge_torch.generative' };
  }
}

function toTfjs(x: Ctx): Command {
  if (x.family === 'tensorflow') return { line: `tensorflowjs_converter --input_format=${x.m.format === 'keras' ? 'keras' : 'tf_saved_model'} --quantize_uint8 '*' ${x.src} web_model/`, tool: 'tensorflowjs' };
  return { line: `onnx2tf -i model.onnx -o saved_model/ && tensorflowjs_converter --input_format=tf_saved_model --quantize_uint8 '*' saved_model/ web_model/`, tool: 'onnx2tf + tensorflowjs', note: 'from PyTorch: export ONNX first' };
}

function toCoreml(x: Ctx, palettize: boolean): Command {
  const pal = palettize ? '; ct.optimize.coreml.palettize_weights(mlmodel, OpPalettizerConfig(nbits=4))' : '';
  if (x.family === 'coreml') return { line: `# already Core ML: add ${x.src} to the Xcode project`, tool: 'none' };
  if (x.family === 'tensorflow') return { line: `python -c "import coremltools as ct; ct.convert('${x.src}', convert_to='mlprogram').save('Model.mlpackage')"${pal ? `  # ${pal.slice(2)}` : ''}`, tool: 'coremltools' };
  return { line: `python -c "import coremltools as ct, torch; ct.convert(torch.jit.trace(model.eval(), x), inputs=[ct.TensorType(shape=x.shape)], convert_to='mlprogram').save('Model.mlpackage')"${pal ? `  # ${pal.slice(2)}` : ''}`, tool: 'coremltools', note: 'needs the model class in Python (LLMs: Apple\'s ml-stable-diffusion / coremltools LLM examples)' };
}

function toExecutorch(x: Ctx, delegate: 'xnnpack' | 'arm'): Command {
  const line = delegate === 'arm' ? 'python -m executorch.examples.arm.aot_arm_compiler --model_name <model> --delegate --quantize' : `python -c "from executorch.exir import to_edge_transform_and_lower; ..."  # torch.export.export(model, x) → to_edge_transform_and_lower(partitioner=[XnnpackPartitioner()]).to_executorch()`;
  return { line, tool: 'executorch', note: x.family === 'pytorch' ? 'needs the PyTorch model class (LLMs: executorch/examples/models/llama export_llama)' : 'ExecuTorch exports from PyTorch only' };
}

function toSavedModel(x: Ctx): Command {
  if (x.m.format === 'tf-savedmodel') return { line: `docker run -p 8501:8501 -v "$PWD/${x.src}:/models/model/1" -e MODEL_NAME=model tensorflow/serving`, tool: 'TensorFlow Serving' };
  if (x.family === 'tensorflow') return { line: `python -c "import keras; keras.saving.load_model('${x.src}').export('saved_model/1')"`, tool: 'Keras', note: 'then serve saved_model/ with tensorflow/serving' };
  return { line: 'onnx2tf -i model.onnx -osd -o saved_model/1', tool: 'onnx2tf', note: 'SavedModel is TensorFlow\'s format: from PyTorch, ONNX + Triton is the usual route' };
}

// ---------------------------------------------------------------------------------------------
// Candidates per target (data: format, quantization, runtime, priority, reasons, command, pool).
// ---------------------------------------------------------------------------------------------

function gguf(x: Ctx, runtime: string, priority: number, pool: Pool, reason: string, filter: (q: QuantQuality) => boolean = () => true): Candidate[] {
  return QUANT_QUALITY.filter((q) => q.name !== 'BF16' && filter(q)).map((q) => ({
    format: 'gguf',
    quant: q.name,
    runtime,
    priority,
    bpw: q.bitsPerWeight,
    quality: { level: q.level, detail: `+${q.pplIncrease} perplexity on ${q.reference}`, source: QUALITY_SOURCE },
    reasons: [reason],
    command: toGguf(x, q),
    pool,
    trainable: false,
    footprint: pool === 'vram' ? PLATFORM_FOOTPRINT.vram : PLATFORM_FOOTPRINT.ram,
  }));
}

function other(format: string, quant: string, runtime: string, priority: number, bpw: number, qualityKey: keyof typeof OTHER_QUALITY, reasons: string[], command: Command, pool: Pool, extra: Partial<Candidate> = {}): Candidate {
  const q = OTHER_QUALITY[qualityKey]!;
  return { format, quant, runtime, priority, bpw, quality: { level: q.level, detail: q.note, source: q.source }, reasons, command, pool, trainable: false, ...extra };
}

function candidates(x: Ctx): Candidate[] {
  const { m, req, family } = x;
  const llm = m.llm;
  const c: Candidate[] = [];
  const st = toSafetensors(x);
  const tf = family === 'tensorflow';
  const ios = req.device?.os === 'ios';
  switch (req.target) {
    case 'cpu':
      if (llm) c.push(...gguf(x, 'llama.cpp (CPU)', 0, 'ram', 'GGUF is the CPU-only format: llama.cpp runs it memory-mapped from one file with quantized CPU kernels (x86 AVX2/AVX-512, ARM NEON)'));
      c.push(other('onnx', 'int8', 'ONNX Runtime (CPU)', llm ? 2 : 0, 8, 'int8', ['ONNX Runtime has optimised int8 CPU kernels'], toOnnx(x, 'int8'), 'ram', { footprint: SMALL_RUNTIME }));
      c.push(other('onnx', 'f32', 'ONNX Runtime (CPU)', llm ? 3 : 1, 32, 'f32', ['ONNX Runtime runs any exported graph on the CPU, no quantization loss'], toOnnx(x, 'f32'), 'ram', { footprint: SMALL_RUNTIME }));
      if (tf && !llm) c.push(other('tflite', 'int8', 'LiteRT (TFLite, XNNPACK)', 1, 8, 'int8', ['LiteRT runs TensorFlow models on the CPU with XNNPACK'], toTflite(x, false), 'ram', { footprint: SMALL_RUNTIME }));
      break;
    case 'gpu':
      if (llm) c.push(...gguf(x, 'llama.cpp (CUDA/ROCm/Vulkan)', 0, 'vram', 'GGUF on llama.cpp offloads layers to the GPU (-ngl) and keeps the rest in RAM when VRAM is short'));
      c.push(other('safetensors', 'bf16', llm ? 'vLLM / transformers' : 'PyTorch', llm ? 1 : 0, 16, 'bf16', ['safetensors is the native Hugging Face layout; the fastest GPU kernels (vLLM, PyTorch) load it directly'], st, 'vram', { trainable: true, footprint: PLATFORM_FOOTPRINT.vram }));
      if (llm) c.push(other('safetensors', 'int4 (AWQ/GPTQ)', 'vLLM', 2, 4.25, 'int4', ['4-bit weights with GPU kernels for large batches'], { line: `python -c "from awq import AutoAWQForCausalLM; ..."  # AutoAWQ quantize(w_bit=4, q_group_size=128)`, tool: 'AutoAWQ', note: 'needs calibration data and a GPU' }, 'vram', { footprint: PLATFORM_FOOTPRINT.vram }));
      c.push(other('onnx', 'f16', 'ONNX Runtime CUDA / TensorRT', llm ? 3 : 1, 16, 'f16', ['TensorRT compiles the ONNX graph for NVIDIA GPUs'], toOnnx(x, 'f16'), 'vram', { footprint: PLATFORM_FOOTPRINT.vram }));
      break;
    case 'apple':
      if (llm) c.push(...gguf(x, 'llama.cpp (Metal)', 0, 'unified', 'GGUF on llama.cpp uses Metal and the unified memory of Apple silicon'));
      if (llm) c.push(other('safetensors (MLX)', '4-bit', 'MLX', 1, 4.5, 'int4', ['MLX runs on Apple silicon\'s unified memory natively'], { line: `mlx_lm.convert --hf-path ${m.planned ? '<hf-repo>' : x.src} -q`, tool: 'mlx-lm' }, 'unified', { footprint: SMALL_RUNTIME }));
      c.push(other('coreml', llm ? 'int4 palettized' : 'f16', 'Core ML (ANE/GPU)', llm ? 2 : 0, llm ? 4.5 : 16, llm ? 'palettized4' : 'f16', ['Core ML reaches the Neural Engine on Apple silicon'], toCoreml(x, llm), 'unified', { footprint: SMALL_RUNTIME }));
      break;
    case 'mobile':
      // Phone: TFLite (LiteRT) / ExecuTorch everywhere, Core ML first on iOS.
      c.push(other('tflite', 'int8', 'LiteRT (TFLite)', ios ? 1 : 0, 8, 'int8', ['LiteRT (TFLite) runs on Android and iOS with GPU / NNAPI delegates'], toTflite(x, false), 'ram', { footprint: SMALL_RUNTIME }));
      c.push(other('executorch', 'int8 (XNNPACK)', 'ExecuTorch', family === 'pytorch' ? (ios ? 1 : 0.5) : 1.5, 8, 'int8', ['ExecuTorch is PyTorch\'s on-device runtime (XNNPACK on CPU, Core ML / QNN delegates)'], toExecutorch(x, 'xnnpack'), 'ram', { footprint: SMALL_RUNTIME }));
      c.push(other('coreml', llm ? 'int4 palettized' : 'f16', 'Core ML (iOS)', ios ? 0 : 2, llm ? 4.5 : 16, llm ? 'palettized4' : 'f16', ['on iOS, Core ML reaches the Neural Engine'], toCoreml(x, llm), 'ram', { footprint: SMALL_RUNTIME }));
      if (llm) c.push(...gguf(x, 'llama.cpp (Android/iOS)', 2, 'ram', 'GGUF runs on phones through llama.cpp bindings (llama.rn, llama.swiftui)', (q) => q.bitsPerWeight <= 6.5));
      break;
    case 'edge':
      if (llm) c.push(...gguf(x, 'llama.cpp (ARM CPU)', 0, 'ram', 'GGUF on llama.cpp runs LLMs on ARM boards (NEON kernels, memory-mapped)', (q) => q.bitsPerWeight <= 6.5));
      c.push(other('tflite', 'int8 (full integer)', 'LiteRT / TFLite Micro', llm ? 1 : 0, 8, 'int8', ['full-integer int8 TFLite runs on microcontrollers (TFLite Micro) and Edge TPUs'], toTflite(x, true), 'ram', { footprint: MCU_RUNTIME }));
      c.push(other('executorch', 'int8', 'ExecuTorch', 2, 8, 'int8', ['ExecuTorch runs on embedded Linux and microcontrollers (Arm Ethos-U, Cortex-M)'], toExecutorch(x, 'arm'), 'ram', { footprint: SMALL_RUNTIME }));
      break;
    case 'browser':
      c.push(other('onnx', llm ? 'int4 (q4)' : 'int8', 'ONNX Runtime Web / transformers.js (WebGPU, WASM)', tf ? 1 : 0, llm ? 4.5 : 8, llm ? 'int4' : 'int8', ['ONNX Runtime Web runs in the browser on WebGPU or WASM (transformers.js)'], toOnnx(x, llm ? 'int4' : 'int8'), 'ram', { footprint: SMALL_RUNTIME }));
      c.push(other('tfjs', 'uint8', 'TensorFlow.js (WebGL/WebGPU/WASM)', tf ? 0 : llm ? 2 : 1, 8, 'int8', ['TensorFlow.js runs in the browser (WebGL, WebGPU or WASM) from sharded weights'], toTfjs(x), 'ram', { footprint: SMALL_RUNTIME }));
      if (llm) c.push(...gguf(x, 'wllama (llama.cpp in WASM)', 1.5, 'ram', 'GGUF runs in the browser through wllama (llama.cpp compiled to WASM)', (q) => q.bitsPerWeight <= 5.5));
      break;
    case 'server':
      // Serve in the source framework's own format first: SavedModel for TensorFlow, safetensors for PyTorch/HF.
      c.push(other('safetensors', 'bf16', llm ? 'vLLM / TGI' : 'TorchServe / Triton (PyTorch)', tf ? 2 : family === 'onnx' ? 1.5 : 0, 16, 'bf16', ['server runtimes (vLLM, TGI, Triton) load safetensors directly; safe to load'], st, 'vram', { trainable: true, footprint: PLATFORM_FOOTPRINT.vram }));
      c.push(other('onnx', 'f16', 'Triton + ONNX Runtime / TensorRT', family === 'onnx' ? 0 : 1, 16, 'f16', ['Triton serves ONNX with ONNX Runtime or TensorRT, framework-neutral'], toOnnx(x, 'f16'), 'vram', { footprint: PLATFORM_FOOTPRINT.vram }));
      c.push(other('tf-savedmodel', 'f32', 'TensorFlow Serving', tf ? 0 : 2.5, 32, 'f32', ['TensorFlow Serving serves SavedModels (REST/gRPC, versioned)'], toSavedModel(x), 'vram', { trainable: true, footprint: PLATFORM_FOOTPRINT.vram }));
      if (llm) c.push(...gguf(x, 'llama.cpp server', 3, 'vram', 'llama-server serves GGUF with an OpenAI-compatible API', (q) => q.bitsPerWeight >= 4.5));
      break;
    case 'interop':
      c.push(other('onnx', 'f32', 'ONNX Runtime (any framework)', 0, 32, 'f32', ['ONNX crosses frameworks: exporters from PyTorch, TensorFlow, scikit-learn; runtimes for every platform'], toOnnx(x, 'f32'), 'ram', { footprint: SMALL_RUNTIME }));
      c.push(other('safetensors', 'bf16', 'PyTorch, JAX, TensorFlow, MLX, candle', 1, 16, 'bf16', ['safetensors weights load in every framework (weights only, no graph)'], st, 'ram', { trainable: true, footprint: SMALL_RUNTIME }));
      break;
  }
  if (req.train) {
    const pool: Pool = req.target === 'gpu' || req.target === 'server' ? 'vram' : req.target === 'apple' ? 'unified' : 'ram';
    c.push(other('safetensors', 'bf16', 'PyTorch + transformers / PEFT', -1, 16, 'bf16', ['training needs full-precision weights in a trainable framework: safetensors loads in PyTorch / transformers / PEFT'], st, pool, { trainable: true }));
    c.push(other('pytorch', 'f32', 'PyTorch', 0, 32, 'f32', ['PyTorch trains from its own checkpoints (torch.load(weights_only=True))'], m.format === 'pytorch' ? { line: `# torch.load('${x.src}', weights_only=True) — or convert first: modelwise convert ${x.src} --to safetensors`, tool: 'PyTorch' } : st, pool, { trainable: true }));
  }
  return c;
}

function usable(req: AdviseRequest, pool: Pool): number | null {
  if (pool === 'vram') return req.vram ?? null;
  if (pool === 'unified') return req.ram ?? req.vram ?? null;
  return req.ram ?? null;
}

export async function advise(m: AdviseModel, req: AdviseRequest): Promise<Advice> {
  if (!TARGETS.includes(req.target)) throw new ModelwiseError('USAGE', `unknown target ${req.target}`, { expected: TARGETS.join(', ') });
  const context = req.context ?? Math.min(m.shape.contextLength ?? 4096, 4096);
  const demand = req.quality ?? 'small';
  const notes: string[] = [];
  const family: Family = m.planned ? 'pytorch' : FAMILY[m.format ?? ''] ?? 'other';
  const support = m.format ? await supportOf(m.format as FormatId) : { identify: false, inspect: false, scanRules: false, convert: false };
  const x: Ctx = { m, req, family, src: m.planned ? '<model>' : m.path, support };
  let all = candidates(x);

  // Training: formats that cannot be trained are left out (GGUF, TFLite, ONNX, Core ML …).
  if (req.train) {
    const dropped = [...new Set(all.filter((c) => !c.trainable).map((c) => c.format))];
    all = all.filter((c) => c.trainable);
    if (dropped.length) notes.push(`training: ${dropped.join(', ')} left out (inference formats); train from safetensors / PyTorch and convert afterwards`);
  }
  // Quality demand: drop quantizations whose published cost is above it (when something else meets it).
  const meets = (c: Candidate) => LEVEL_RANK[c.quality.level]! <= LEVEL_RANK[demand]!;
  if (all.some(meets)) {
    const dropped = all.filter((c) => !meets(c));
    all = all.filter(meets);
    if (dropped.length) notes.push(`quality "${demand}": ${dropped.length} options with a larger quality cost left out (${[...new Set(dropped.map((c) => `${c.format} ${c.quant}`))].slice(0, 8).join(', ')}${dropped.length > 8 ? ', …' : ''})`);
  } else notes.push(`no option meets quality "${demand}": the closest are listed`);

  const facts = FORMAT_FACTS.find((f) => f.id === (m.format ?? ''));
  const options: (AdviseOption & { _sort: number[] })[] = [];
  for (const c of all) {
    const pool = c.pool;
    const mem: MemoryEstimate = estimateMemory({ ...m.shape, weightBytes: undefined }, { context, batch: req.batch, bitsPerWeight: c.bpw, footprint: c.footprint ?? (pool === 'vram' ? PLATFORM_FOOTPRINT.vram : PLATFORM_FOOTPRINT.ram) });
    if (!m.llm) {
      mem.kvCache = 0;
      mem.compute = 0;
    }
    const fileSize = Math.ceil((m.shape.parameters * c.bpw) / 8);
    const total = mem.weights + mem.kvCache + mem.compute + mem.overhead;
    const budget = usable(req, pool);
    const limit = budget === null ? null : pool === 'unified' ? budget * UNIFIED_GPU_SHARE : budget;
    let fits: boolean | null = limit === null ? null : total <= limit;
    let gpuLayers: number | undefined;
    const reasons = [...c.reasons];
    const risks: string[] = [];
    const poolName = pool === 'vram' ? 'VRAM' : pool === 'unified' ? 'unified memory (GPU share)' : 'RAM';
    if (fits === false && pool === 'vram' && c.format === 'gguf' && m.shape.layers && limit !== null) {
      // Partial offload: the compute buffer and runtime stay on the GPU; each offloaded layer brings its weights + KV.
      const fixed = mem.compute + mem.overhead;
      gpuLayers = Math.max(0, Math.min(m.shape.layers, Math.floor((limit - fixed) / Math.max(1, mem.perLayer))));
      const rest = total - fixed - gpuLayers * mem.perLayer + PLATFORM_FOOTPRINT.ram;
      if (gpuLayers > 0) {
        reasons.push(
          gpuLayers === m.shape.layers
            ? `all ${gpuLayers} layers fit in ${fmt(limit)} of VRAM (-ngl ${gpuLayers}); the embedding tables and the rest (${fmt(rest)}) stay in RAM`
            : `does not fit in ${fmt(limit)} of VRAM whole: offload ${gpuLayers} of ${m.shape.layers} layers to the GPU (-ngl ${gpuLayers}) and keep ${fmt(rest)} in RAM`,
        );
        fits = req.ram !== undefined ? rest <= req.ram : null;
        if (fits === false) reasons.push(`the ${fmt(rest)} left for RAM is more than the ${fmt(req.ram!)} available`);
      }
    }
    if (fits === true && gpuLayers === undefined) reasons.push(`needs ${fmt(total)} of the ${fmt(limit!)} usable ${poolName}`);
    if (fits === false && gpuLayers === undefined) reasons.push(`needs ${fmt(total)}, more than the ${fmt(limit!)} usable ${poolName}`);
    if (m.pickle) {
      reasons.push(`the source is a pickle: convert it to safetensors first (modelwise convert ${x.src} --to safetensors reads it without executing anything)`);
      risks.push('loading the pickle itself (torch.load without weights_only=True) runs any code it names');
      // External tools would torch.load the pickle: put the safe conversion in front of them.
      if (c.command.tool !== 'modelwise' && c.command.tool !== 'none' && support.convert && !c.command.line.startsWith('modelwise convert')) {
        c.command = { ...c.command, line: `modelwise convert ${x.src} --to safetensors && ${c.command.line}`, note: [c.command.note, 'point the tool at the safetensors output'].filter(Boolean).join('; ') };
      }
    }
    if (facts && (facts.lifecycle.status === 'retired' || facts.lifecycle.status === 'superseded')) risks.push(`the source format is ${facts.lifecycle.status}: ${facts.lifecycle.note}`);
    if (!m.llm && (req.target === 'cpu' || req.target === 'gpu') && c.format === 'gguf') risks.push('GGUF suits transformer LLMs; other models have no llama.cpp runtime');
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
      // Rank: fits, then a full fit before a partial offload, then the target's preference, then the
      // smallest file among those whose quality cost meets the demand (the others are left out above).
      _sort: [fits === false ? 1 : 0, fits !== false && gpuLayers !== undefined ? 1 : 0, c.priority, fileSize],
    });
  }
  options.sort((a, b) => {
    for (let i = 0; i < a._sort.length; i++) if (a._sort[i] !== b._sort[i]) return a._sort[i]! - b._sort[i]!;
    return 0;
  });
  if (options.length && options[0]!.fits === false) notes.push('nothing fits the stated memory: the options are ranked by preference, and each says how much it needs');
  if (!m.llm) notes.push('not a transformer language model: memory is the weights + the runtime (activations are not estimated)');
  if (m.pickle) notes.push(`${m.path} is a pickle: convert it to safetensors first (modelwise convert reads it without executing it)`);
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
