/** pytorch: detection to be written (placeholder while the format is being implemented). */
import type { FormatModule } from '../types.js';

export const pytorch: FormatModule = {
  id: 'pytorch',
  name: 'pytorch',
  extensions: [],
};
