/** coreml: detection to be written (placeholder while the format is being implemented). */
import type { FormatModule } from '../types.js';

export const coreml: FormatModule = {
  id: 'coreml',
  name: 'coreml',
  extensions: [],
};
