/**
 * The one list of formats. Order breaks ties: more specific detectors come first (TorchScript
 * before PyTorch, Keras v3 before NumPy npz, TF.js before MXNet before PFA for JSON files).
 */
import type { FormatModule } from './types.js';
import { gguf } from './gguf/index.js';
import { ggml } from './ggml/index.js';
import { safetensors } from './safetensors/index.js';
import { torchscript } from './torchscript/index.js';
import { executorch } from './executorch/index.js';
import { pytorch } from './pytorch/index.js';
import { tflite } from './tflite/index.js';
import { keras } from './keras/index.js';
import { tfSavedmodel } from './tf-savedmodel/index.js';
import { coreml } from './coreml/index.js';
import { tfjs } from './tfjs/index.js';
import { mxnet } from './mxnet/index.js';
import { pmml } from './pmml/index.js';
import { pfa } from './pfa/index.js';
import { numpy } from './numpy/index.js';
import { onnx } from './onnx/index.js';
import { caffe } from './caffe/index.js';

export const FORMATS: readonly FormatModule[] = [
  gguf,
  ggml,
  safetensors,
  torchscript,
  executorch,
  pytorch,
  tflite,
  keras,
  tfSavedmodel,
  coreml,
  tfjs,
  mxnet,
  pmml,
  pfa,
  numpy,
  onnx, // structural protobuf checks last: ONNX has no magic
  caffe,
];

export function formatById(id: string): FormatModule | undefined {
  return FORMATS.find((f) => f.id === id);
}
