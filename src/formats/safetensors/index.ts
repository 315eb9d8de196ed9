/** safetensors: detection to be written (placeholder while the format is being implemented). */
import type { FormatModule } from '../types.js';

export const safetensors: FormatModule = {
  id: 'safetensors',
  name: 'safetensors',
  extensions: [],
};
