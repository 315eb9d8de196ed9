/** caffe: detection to be written (placeholder while the format is being implemented). */
import type { FormatModule } from '../types.js';

export const caffe: FormatModule = {
  id: 'caffe',
  name: 'caffe',
  extensions: [],
};
