/**
 * Top-level keys of a document without parsing it: a YAML block mapping's keys (lines at column 0)
 * and a JSON object's keys at depth 1 (a tokenizer that tolerates a cut at the end). Both are for
 * detection only: they tell which fields a document has, not their values.
 */

/**
 * Keys of a YAML block mapping at the top level, in order; undefined when the text is not a block
 * mapping (a column-0 line that is not `key:`, a flow collection, a scalar).
 */
export function yamlTopLevelKeys(text: string): string[] | undefined {
  const keys: string[] = [];
  const lines = text.split(/\r?\n/);
  // The last line may be cut by the head window.
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '' || /^\s/.test(line) || line.startsWith('#')) continue;
    if (line === '---' || line.startsWith('--- ') || line === '...' || line.startsWith('%')) {
      if (keys.length > 0 && (line === '...' || line.startsWith('---'))) break; // one document only
      continue;
    }
    const m = /^("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z_@][\w@.$-]*)\s*:(?:\s|$)/.exec(line);
    if (!m) {
      if (i === lines.length - 1 && keys.length > 0) break; // cut line
      return undefined;
    }
    let k = m[1]!;
    if (k.startsWith('"') || k.startsWith("'")) k = k.slice(1, -1);
    keys.push(k);
  }
  return keys.length ? keys : undefined;
}

/** Keys at depth 1 of a JSON object text (possibly cut); undefined when it is not an object or is malformed. */
export function jsonTopLevelKeys(text: string): string[] | undefined {
  let i = text.search(/\S/);
  if (i < 0 || text[i] !== '{') return undefined;
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) break; // cut inside a string
      if (depth === 1 && expectKey) {
        try {
          keys.push(JSON.parse(text.slice(i, j + 1)) as string);
        } catch {
          return undefined;
        }
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) break;
      if (depth < 0) return undefined;
    } else if (c === ',' && depth === 1) expectKey = true;
  }
  return keys;
}
