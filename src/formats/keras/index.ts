/** keras: detection to be written (placeholder while the format is being implemented). */
import type { FormatModule } from '../types.js';

export const keras: FormatModule = {
  id: 'keras',
  name: 'keras',
  extensions: [],
};
