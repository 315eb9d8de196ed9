/** executorch: detection to be written (placeholder while the format is being implemented). */
import type { FormatModule } from '../types.js';

export const executorch: FormatModule = {
  id: 'executorch',
  name: 'executorch',
  extensions: [],
};
