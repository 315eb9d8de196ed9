/**
 * Shared text rules of format scans: is a path named inside a model safe to join to the model's
 * folder (external data, weight shards, linked models, package items), and does free-text metadata
 * look like a command or code (META-001)?
 */
import { safeRelativePath } from '../io/tree.js';
import { registerRules } from './rules.js';
import type { Finding } from './types.js';

registerRules({
  'META-001': 'Free-text metadata holds shell commands or code (URLs of executables: suspicious; other URLs: informational)',
});

/** Why an external data location is unsafe, or undefined when it stays in the model folder. */
export function unsafeLocation(location: string): string | undefined {
  if (location === '') return 'an empty location';
  if (/[\x00-\x1f]/.test(location)) return 'control characters';
  if (/^[a-zA-Z][\w+.-]*:\/\//.test(location)) return 'a URL';
  if (/^(\\\\|\/\/)/.test(location)) return 'a UNC / network path';
  if (location.startsWith('/') || location.startsWith('\\')) return 'an absolute path';
  if (/^[a-zA-Z]:/.test(location)) return 'a drive letter';
  if (location.startsWith('~')) return 'a home-directory path';
  const parts = location.replace(/\\/g, '/').split('/');
  let depth = 0;
  for (const p of parts) {
    if (p === '..') depth--;
    else if (p !== '' && p !== '.') depth++;
    if (depth < 0) return 'a ".." that leaves the model folder';
  }
  return undefined;
}

/** A relative location with `.` and `..` resolved (callers check it does not escape first). */
export function normalizeRelative(location: string): string | undefined {
  const out: string[] = [];
  for (const p of location.replace(/\\/g, '/').split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (!out.length) return undefined;
      out.pop();
    } else out.push(p);
  }
  return safeRelativePath(out.join('/'));
}

/** Shell, code and download patterns in free text (model metadata). */
export const META_PATTERN = /\b(?:curl|wget)\s+\S|\/bin\/(?:ba|z|da)?sh\b|\bbash\s+-c\b|\bpowershell\b|\bcmd(?:\.exe)?\s*\/c\b|\brm\s+-rf\b|\bnc\s+-[elvp]|\bchmod\s+\+x\b|\b(?:os\.system|os\.popen|subprocess\.\w+|__import__|eval\s*\(|exec\s*\(|base64\s+-d|import\s+os\b)|<script\b|\$\([^)]{1,200}\)/i;
/** URLs in free text (reported when the brief asks for them: with executable-looking targets). */
export const META_URL = /\b(?:https?|ftp):\/\/[^\s"'<>]+/i;

export function metaFinding(key: string, value: string, location: string): Finding | undefined {
  const code = META_PATTERN.exec(value);
  const url = META_URL.exec(value);
  const exe = url && /\.(sh|py|exe|bat|ps1|so|dll|dylib|bin|elf|jar|pkl|pt|pth)(\?|$)/i.test(url[0]) ? url : null;
  const hit = code ?? exe;
  if (hit) {
    return { rule: 'META-001', severity: 'medium', location, evidence: `${key} = ${JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value)} (${hit === code ? 'shell/code pattern' : 'URL of an executable or pickle'} ${JSON.stringify(hit[0].slice(0, 80))})`, message: 'metadata text that looks like a command or code: loaders do not run it, but tools and prompts that display or paste it may' };
  }
  if (url) {
    return { rule: 'META-001', severity: 'info', location, evidence: `${key} holds a URL: ${url[0].slice(0, 120)}`, message: 'a URL in metadata (informational)' };
  }
  return undefined;
}
