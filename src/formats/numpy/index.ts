/** numpy: detection to be written (placeholder while the format is being implemented). */
import type { FormatModule } from '../types.js';

export const numpy: FormatModule = {
  id: 'numpy',
  name: 'numpy',
  extensions: [],
};
