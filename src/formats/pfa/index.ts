/** pfa: detection to be written (placeholder while the format is being implemented). */
import type { FormatModule } from '../types.js';

export const pfa: FormatModule = {
  id: 'pfa',
  name: 'pfa',
  extensions: [],
};
