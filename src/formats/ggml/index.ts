/** ggml: detection to be written (placeholder while the format is being implemented). */
import type { FormatModule } from '../types.js';

export const ggml: FormatModule = {
  id: 'ggml',
  name: 'ggml',
  extensions: [],
};
