/** torchscript: detection to be written (placeholder while the format is being implemented). */
import type { FormatModule } from '../types.js';

export const torchscript: FormatModule = {
  id: 'torchscript',
  name: 'torchscript',
  extensions: [],
};
