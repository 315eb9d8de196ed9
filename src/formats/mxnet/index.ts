/** mxnet: detection to be written (placeholder while the format is being implemented). */
import type { FormatModule } from '../types.js';

export const mxnet: FormatModule = {
  id: 'mxnet',
  name: 'mxnet',
  extensions: [],
};
