/**
 * What each model format can do, as data, with a source for every claim (`modelwise formats`).
 * modelwise's own support for each format is not written here: it is derived from the code
 * (src/advise/capabilities.ts), so the table can never claim what modelwise does not do.
 */
import type { FormatId } from '../types.js';

export type Hardware = 'cpu' | 'nvidia' | 'amd' | 'apple' | 'android' | 'ios' | 'mcu' | 'browser';

export interface Runtime {
  name: string;
  hardware: Hardware[];
}

export interface FormatFacts {
  id: FormatId;
  name: string;
  /** A single file, a folder, or either. */
  layout: 'file' | 'folder' | 'file or folder';
  /** Storage types the format can hold. */
  quantization: string[];
  /** Can the model be trained / fine-tuned from this format directly? */
  training: 'yes' | 'partial' | 'no';
  runtimes: Runtime[];
  /** Does loading the file run code it contains? */
  codeExecutionRisk: { level: 'none' | 'low' | 'high'; why: string };
  interoperability: string;
  lifecycle: { status: 'active' | 'superseded' | 'retired' | 'legacy'; note: string };
  sources: string[];
}

export const FORMAT_FACTS: FormatFacts[] = [
  {
    id: 'gguf', name: 'GGUF', layout: 'file',
    quantization: ['f32', 'f16', 'bf16', 'q8_0', 'q4_0…q5_1', 'k-quants q2_k…q6_k', 'iq1…iq4', 'tq1_0/tq2_0', 'mxfp4'],
    training: 'no',
    runtimes: [{ name: 'llama.cpp', hardware: ['cpu', 'nvidia', 'amd', 'apple', 'android', 'ios'] }, { name: 'Ollama', hardware: ['cpu', 'nvidia', 'amd', 'apple'] }, { name: 'LM Studio', hardware: ['cpu', 'nvidia', 'amd', 'apple'] }, { name: 'wllama (WASM)', hardware: ['browser'] }],
    codeExecutionRisk: { level: 'low', why: 'no code, but the chat template is a Jinja program rendered by the runtime (CVE-2024-34359)' },
    interoperability: 'llama.cpp ecosystem; transformers can load GGUF by dequantizing',
    lifecycle: { status: 'active', note: 'successor of GGML/GGJT (August 2023)' },
    sources: ['https://github.com/ggml-org/ggml/blob/master/docs/gguf.md', 'https://huggingface.co/docs/hub/gguf'],
  },
  {
    id: 'ggml', name: 'GGML / GGJT (legacy)', layout: 'file', quantization: ['f32', 'f16', 'q4_0…q8_0 (old layouts)'], training: 'no',
    runtimes: [{ name: 'whisper.cpp (ggml models)', hardware: ['cpu', 'apple', 'nvidia'] }],
    codeExecutionRisk: { level: 'none', why: 'tensors and hyper-parameters only' },
    interoperability: 'convert to GGUF (llama.cpp convert_llama_ggml_to_gguf.py)',
    lifecycle: { status: 'retired', note: 'llama.cpp stopped loading it in August 2023; whisper.cpp still uses it' },
    sources: ['https://github.com/ggml-org/ggml/blob/master/docs/gguf.md#historical-state-of-affairs'],
  },
  {
    id: 'safetensors', name: 'safetensors', layout: 'file or folder', quantization: ['f64', 'f32', 'f16', 'bf16', 'f8_e4m3', 'f8_e5m2', 'int8/uint8 (as stored by quantizers)'], training: 'yes',
    runtimes: [{ name: 'transformers / diffusers (PyTorch)', hardware: ['cpu', 'nvidia', 'amd', 'apple'] }, { name: 'vLLM / TGI / SGLang', hardware: ['nvidia', 'amd'] }, { name: 'MLX', hardware: ['apple'] }, { name: 'candle', hardware: ['cpu', 'nvidia', 'apple', 'browser'] }],
    codeExecutionRisk: { level: 'none', why: 'a JSON header and raw tensor bytes; designed to be safe to load' },
    interoperability: 'the Hugging Face default; readable from PyTorch, JAX, TensorFlow, MLX, Rust',
    lifecycle: { status: 'active', note: 'default weight format of transformers since v4.30' },
    sources: ['https://huggingface.co/docs/safetensors/index', 'https://github.com/huggingface/safetensors'],
  },
  {
    id: 'pytorch', name: 'PyTorch checkpoint (pickle)', layout: 'file or folder', quantization: ['f32', 'f16', 'bf16', 'qint8/quint8 (torch.ao)'], training: 'yes',
    runtimes: [{ name: 'PyTorch', hardware: ['cpu', 'nvidia', 'amd', 'apple'] }],
    codeExecutionRisk: { level: 'high', why: 'a pickle: torch.load runs any code it names unless weights_only=True (the default since torch 2.6)' },
    interoperability: 'PyTorch only; convert to safetensors to share',
    lifecycle: { status: 'legacy', note: 'superseded by safetensors for sharing weights' },
    sources: ['https://pytorch.org/docs/stable/generated/torch.load.html', 'https://huggingface.co/docs/hub/security-pickle'],
  },
  {
    id: 'torchscript', name: 'TorchScript', layout: 'file', quantization: ['f32', 'f16', 'qint8'], training: 'partial',
    runtimes: [{ name: 'LibTorch (C++)', hardware: ['cpu', 'nvidia'] }, { name: 'PyTorch Mobile (lite interpreter)', hardware: ['android', 'ios'] }],
    codeExecutionRisk: { level: 'high', why: 'contains TorchScript code and pickles that run on load' },
    interoperability: 'PyTorch runtimes only',
    lifecycle: { status: 'superseded', note: 'in maintenance; torch.export / ExecuTorch replace it' },
    sources: ['https://pytorch.org/docs/stable/jit.html', 'https://pytorch.org/docs/stable/export.html'],
  },
  {
    id: 'executorch', name: 'ExecuTorch (.pte)', layout: 'file', quantization: ['f32', 'f16', 'int8', 'int4 (XNNPACK, delegates)'], training: 'no',
    runtimes: [{ name: 'ExecuTorch', hardware: ['cpu', 'android', 'ios', 'mcu', 'apple'] }],
    codeExecutionRisk: { level: 'none', why: 'a flatbuffer program executed by the runtime\'s own kernels' },
    interoperability: 'exported from PyTorch with torch.export',
    lifecycle: { status: 'active', note: 'PyTorch\'s on-device runtime, successor of PyTorch Mobile' },
    sources: ['https://pytorch.org/executorch/stable/index.html'],
  },
  {
    id: 'onnx', name: 'ONNX', layout: 'file or folder', quantization: ['f32', 'f16', 'bf16', 'int8 (QDQ / QLinear)', 'int4 (MatMulNBits)', 'f8'], training: 'partial',
    runtimes: [{ name: 'ONNX Runtime', hardware: ['cpu', 'nvidia', 'amd', 'apple', 'android', 'ios'] }, { name: 'ONNX Runtime Web', hardware: ['browser'] }, { name: 'TensorRT', hardware: ['nvidia'] }, { name: 'OpenVINO', hardware: ['cpu'] }],
    codeExecutionRisk: { level: 'low', why: 'no code; external data paths and custom operator libraries must be checked' },
    interoperability: 'the cross-framework exchange format (PyTorch, TensorFlow, scikit-learn exporters)',
    lifecycle: { status: 'active', note: 'Linux Foundation AI standard' },
    sources: ['https://onnx.ai/onnx/intro/', 'https://onnxruntime.ai/docs/'],
  },
  {
    id: 'tf-savedmodel', name: 'TensorFlow SavedModel', layout: 'folder', quantization: ['f32', 'f16', 'int8 (via TFLite)'], training: 'yes',
    runtimes: [{ name: 'TensorFlow / TF Serving', hardware: ['cpu', 'nvidia'] }, { name: 'TensorFlow.js (converted)', hardware: ['browser'] }],
    codeExecutionRisk: { level: 'low', why: 'a graph; ops such as ReadFile/WriteFile/PyFunc can touch the host' },
    interoperability: 'TensorFlow ecosystem; converts to TFLite, TF.js, ONNX (tf2onnx)',
    lifecycle: { status: 'active', note: 'TensorFlow\'s serving format; session bundles are retired' },
    sources: ['https://www.tensorflow.org/guide/saved_model'],
  },
  {
    id: 'tflite', name: 'TensorFlow Lite / LiteRT', layout: 'file', quantization: ['f32', 'f16', 'int8 (full integer)', 'dynamic range int8', 'int16x8'], training: 'partial',
    runtimes: [{ name: 'LiteRT (TFLite)', hardware: ['cpu', 'android', 'ios', 'apple'] }, { name: 'TFLite Micro', hardware: ['mcu'] }, { name: 'tfjs-tflite', hardware: ['browser'] }],
    codeExecutionRisk: { level: 'none', why: 'a flatbuffer graph; custom/Flex ops need the app to provide them' },
    interoperability: 'from TensorFlow, JAX, PyTorch (ai-edge-torch)',
    lifecycle: { status: 'active', note: 'renamed LiteRT in 2024' },
    sources: ['https://ai.google.dev/edge/litert', 'https://www.tensorflow.org/lite/performance/post_training_quantization'],
  },
  {
    id: 'tfjs', name: 'TensorFlow.js', layout: 'folder', quantization: ['f32', 'f16 (float16 quantization)', 'uint8', 'uint16'], training: 'yes',
    runtimes: [{ name: 'TensorFlow.js (WebGL/WebGPU/WASM)', hardware: ['browser'] }, { name: 'tfjs-node', hardware: ['cpu', 'nvidia'] }],
    codeExecutionRisk: { level: 'none', why: 'JSON topology and weight shards; shard paths must stay inside the folder' },
    interoperability: 'converted from Keras / SavedModel with tensorflowjs_converter',
    lifecycle: { status: 'active', note: 'last major release 4.22 (2024)' },
    sources: ['https://www.tensorflow.org/js/guide/conversion'],
  },
  {
    id: 'keras', name: 'Keras (.keras / .h5)', layout: 'file or folder', quantization: ['f32', 'f16', 'bf16', 'int8 (Keras 3 quantize)'], training: 'yes',
    runtimes: [{ name: 'Keras 3 (TensorFlow / JAX / PyTorch backends)', hardware: ['cpu', 'nvidia', 'amd', 'apple'] }],
    codeExecutionRisk: { level: 'high', why: 'Lambda layers carry marshalled Python bytecode; config can name arbitrary modules (CVE-2024-3660, CVE-2025-1550)' },
    interoperability: 'Keras; converts to SavedModel, TF.js, TFLite',
    lifecycle: { status: 'active', note: '.keras (v3) replaces the legacy HDF5 .h5 format' },
    sources: ['https://keras.io/guides/serialization_and_saving/'],
  },
  {
    id: 'coreml', name: 'Core ML', layout: 'file or folder', quantization: ['f32', 'f16', 'int8 (linear)', 'palettized (1–8 bit)', 'int4 blockwise'], training: 'partial',
    runtimes: [{ name: 'Core ML', hardware: ['apple', 'ios'] }],
    codeExecutionRisk: { level: 'none', why: 'a protobuf spec and weight blobs; custom layers need app code' },
    interoperability: 'converted with coremltools from PyTorch / TensorFlow',
    lifecycle: { status: 'active', note: 'ML Program (.mlpackage) supersedes the neural-network spec' },
    sources: ['https://apple.github.io/coremltools/docs-guides/source/convert-to-ml-program.html'],
  },
  {
    id: 'pmml', name: 'PMML', layout: 'file', quantization: [], training: 'no',
    runtimes: [{ name: 'JPMML / OpenScoring', hardware: ['cpu'] }],
    codeExecutionRisk: { level: 'low', why: 'XML; external entities must never be resolved (XXE)' },
    interoperability: 'classic ML (trees, regressions, ensembles) across vendors',
    lifecycle: { status: 'legacy', note: 'PMML 4.4 (2019) is the last version' },
    sources: ['https://dmg.org/pmml/v4-4-1/GeneralStructure.html'],
  },
  {
    id: 'pfa', name: 'PFA', layout: 'file', quantization: [], training: 'no',
    runtimes: [{ name: 'Hadrian / Titus', hardware: ['cpu'] }],
    codeExecutionRisk: { level: 'none', why: 'a sandboxed JSON language' },
    interoperability: 'scoring engines across languages',
    lifecycle: { status: 'retired', note: 'DMG specification 0.8.1; reference engines unmaintained' },
    sources: ['http://dmg.org/pfa/docs/document_structure/'],
  },
  {
    id: 'mxnet', name: 'MXNet', layout: 'folder', quantization: ['f32', 'f16', 'int8'], training: 'yes',
    runtimes: [{ name: 'Apache MXNet', hardware: ['cpu', 'nvidia'] }],
    codeExecutionRisk: { level: 'low', why: 'JSON graph and an NDArray list; custom operators need code' },
    interoperability: 'export to ONNX (mx2onnx) while it still runs',
    lifecycle: { status: 'retired', note: 'Apache MXNet moved to the Attic in 2023' },
    sources: ['https://attic.apache.org/projects/mxnet.html'],
  },
  {
    id: 'numpy', name: 'NumPy .npy / .npz', layout: 'file', quantization: ['any NumPy dtype'], training: 'no',
    runtimes: [{ name: 'NumPy', hardware: ['cpu'] }],
    codeExecutionRisk: { level: 'low', why: 'object arrays are pickles (np.load allow_pickle=True runs them)' },
    interoperability: 'arrays only; no graph',
    lifecycle: { status: 'active', note: 'NEP 1 format' },
    sources: ['https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html'],
  },
  {
    id: 'caffe', name: 'Caffe', layout: 'file', quantization: ['f32', 'f64'], training: 'yes',
    runtimes: [{ name: 'Caffe / OpenCV dnn', hardware: ['cpu', 'nvidia'] }],
    codeExecutionRisk: { level: 'low', why: 'protobuf; Python layers name code' },
    interoperability: 'OpenCV dnn reads it; convert to ONNX',
    lifecycle: { status: 'retired', note: 'BVLC Caffe is unmaintained since 2017' },
    sources: ['https://github.com/BVLC/caffe'],
  },
];
