/** tflite: detection to be written (placeholder while the format is being implemented). */
import type { FormatModule } from '../types.js';

export const tflite: FormatModule = {
  id: 'tflite',
  name: 'tflite',
  extensions: [],
};
