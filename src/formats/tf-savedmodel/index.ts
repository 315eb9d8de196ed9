/** tf-savedmodel: detection to be written (placeholder while the format is being implemented). */
import type { FormatModule } from '../types.js';

export const tfSavedmodel: FormatModule = {
  id: 'tf-savedmodel',
  name: 'tf-savedmodel',
  extensions: [],
};
