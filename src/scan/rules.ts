/** The rule catalogue: stable ids with a one-line description (SARIF `rules`, README). */
export const RULES: Record<string, string> = {
  'PKL-001': 'Pickle imports a global that can run code, touch files or the network (os, subprocess, builtins.eval, …)',
  'PKL-002': 'Pickle STACK_GLOBAL operands are not string constants (computed import)',
  'PKL-003': 'Pickle import walks object internals or into another module (dunders, dotted attribute paths)',
  'PKL-004': 'Pickle modifies an imported module or class (BUILD/SETITEM on a global: monkey-patching)',
  'PKL-005': 'Pickle hidden in a constant (bytes, latin-1 string, base64, zlib)',
  'PKL-006': 'Pickle imports a global outside the allow-list of plain tensor checkpoints',
  'PKL-007': 'Pickle calls a callable produced at load time',
  'PKL-008': 'Malformed pickle stream (stops after imports or calls: high; plain damage: low)',
  'PKL-009': 'Pickle resource abuse (opcodes, stack, memo or container limits)',
  'PKL-010': 'Pickle import through the copyreg extension registry (EXT1/2/4)',
  'PKL-011': 'Pickle imports a security scanner',
  'ARC-001': 'Archive member name escapes the folder (absolute, drive letter, ..) or is duplicated',
  'ARC-002': 'Archive member is a link',
  'ARC-003': 'Archive bomb shape, nesting or size limits (not scanned)',
  'ARC-004': 'Archive header inconsistencies (local vs central directory, truncation, prefix)',
  'ARC-005': 'Encrypted or unsupported archive member (not scanned)',
  'ARC-006': '7z container: members decoded (LZMA/LZMA2/Deflate/BCJ) and scanned by content',
  'TPL-001': 'Jinja template reaches Python internals or the OS (SSTI)',
  'GGUF-001': 'GGUF header values overflow or point outside the file',
  'GGUF-002': 'GGUF header irregularity',
  'HDR-001': 'Malformed header',
  'SCAN-LIMIT': 'Part too large or a limit hit (not scanned)',
  'SCAN-ERROR': 'The model could not be read to the end',
  'FILE-EMPTY': 'Empty file',
};

/** Register rules contributed by format folders (their scan.ts). */
export function registerRules(rules: Record<string, string>): void {
  Object.assign(RULES, rules);
}
