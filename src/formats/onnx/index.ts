/** onnx: detection to be written (placeholder while the format is being implemented). */
import type { FormatModule } from '../types.js';

export const onnx: FormatModule = {
  id: 'onnx',
  name: 'onnx',
  extensions: [],
};
