/** pmml: detection to be written (placeholder while the format is being implemented). */
import type { FormatModule } from '../types.js';

export const pmml: FormatModule = {
  id: 'pmml',
  name: 'pmml',
  extensions: [],
};
