/** Human-readable rendering of identify results (shared by the CLI and, later, the web app). */
import type { Identification } from '../types.js';
import { humanBytes } from '../io/bytes.js';
import { versionText } from './inspect.js';

export function renderIdentification(id: Identification, indent = ''): string {
  const lines: string[] = [];
  const size = id.size !== null ? ` (${humanBytes(id.size)})` : '';
  if (id.format) {
    const f = id.format;
    const version = versionText(f.version);
    lines.push(`${indent}${id.path}${size}: ${f.name}${version} [${f.id}/${f.variant}], ${id.confidence} confidence`);
    for (const e of id.evidence) lines.push(`${indent}  - ${e}`);
    if (id.files && id.files.length > 1) {
      lines.push(`${indent}  files (${id.files.length}):`);
      const shown = id.files.slice(0, 20);
      const roleWidth = Math.max(9, ...shown.map((file) => file.role.length));
      for (const file of shown) lines.push(`${indent}    ${file.role.padEnd(roleWidth)} ${file.path} (${humanBytes(file.size)})`);
      if (id.files.length > shown.length) lines.push(`${indent}    … ${id.files.length - shown.length} more`);
    }
  } else {
    const reason = id.reason ?? 'unknown';
    const why = reason.startsWith(`${id.path}: `) ? reason.slice(id.path.length + 2) : reason;
    lines.push(`${indent}${id.path}${size}: ${id.error ? 'could not be read' : 'not a recognised model'} — ${why}`);
    if (id.models) for (const m of id.models) lines.push(renderIdentification(m, indent + '  '));
  }
  return lines.join('\n');
}
