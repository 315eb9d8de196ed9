/** tfjs: detection to be written (placeholder while the format is being implemented). */
import type { FormatModule } from '../types.js';

export const tfjs: FormatModule = {
  id: 'tfjs',
  name: 'tfjs',
  extensions: [],
};
