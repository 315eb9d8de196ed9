/**
 * Pickle scanning: run the symbolic pickle machine over every stream in a byte range and judge
 * what it imports and calls (rules PKL-001 … PKL-011, documented in the README). Nothing is ever
 * imported or executed. Embedded pickles (in bytes constants, latin-1 strings, base64, zlib) are
 * scanned recursively; a broken stream is reported and scanning resumes at the next stream.
 */
import { inflateCapped } from '../codecs/inflate.js';
import { walkPickle, describe, rootGlobal, type PValue, type PickleEvent, type PickleLimits } from '../codecs/pickle.js';
import { classifyGlobal } from './pickle-policy.js';
import type { Finding, PickleImport } from './types.js';

export const SCAN_PICKLE_LIMITS: PickleLimits = { maxOps: 5_000_000, maxStack: 100_000, maxMemo: 1_000_000, maxItems: 10_000_000 };
const MAX_STREAMS = 64;
const MAX_DEPTH = 4;
const SCANNER_MODULES = /^(fickling|picklescan|modelscan|modelaudit|modelwise|saferpickle|model_unpickler)(\.|$)/;

export interface PickleScan {
  findings: Finding[];
  imports: PickleImport[];
  streams: number;
}

/** Opcodes that can open a protocol 0/1 stream. */
const TEXT_OPENERS = new Set([0x28, 0x29, 0x5d, 0x7d, 0x63, 0x69, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x46, 0x47, 0x53, 0x54, 0x55, 0x56, 0x58, 0x4e, 0x50, 0x51, 0x70, 0x71, 0x67, 0x68, 0x88, 0x89]);

/**
 * Does a pickle stream start at `at`? PROTO 2–5 is certain. Protocol 0/1 streams have no header, so
 * the machine is run on the head: it must reach STOP, or import and call something before it breaks
 * (plain text rarely does either).
 */
export function looksLikePickle(b: Uint8Array, at = 0): boolean {
  const c = b[at];
  if (c === undefined) return false;
  if (c === 0x80) return b[at + 1] !== undefined && b[at + 1]! >= 2 && b[at + 1]! <= 5;
  if (!TEXT_OPENERS.has(c)) return false;
  const r = walkPickle(b.subarray(at, at + 64 * 1024), 0, { maxOps: 20_000, maxStack: 10_000, maxMemo: 10_000, maxItems: 100_000 });
  if (!r.error) return r.opcodes >= 2;
  const imports = r.events.filter((e) => e.type === 'import');
  if (imports.some((e) => classifyGlobal(e.module!, e.name!).class === 'dangerous')) return true;
  return imports.length > 0 && r.events.some((e) => e.type === 'call' || e.type === 'build');
}

function at(location: string, offset: number): string {
  return `${location} @ offset ${offset}`;
}

/** How a global was reached: the first call or build that uses it, else the import opcode. */
function reach(events: PickleEvent[], g: PValue): string {
  const e = events.find((x) => (x.type === 'call' || x.type === 'build') && x.target !== undefined && rootGlobal(x.target as PValue) === g);
  return e ? `reached through ${e.op}` : 'imported';
}

/** Scan every pickle stream in `data` (stacked pickles included). */
export function scanPickle(data: Uint8Array, location: string, depth = 0, start = 0, maxStreams = MAX_STREAMS): PickleScan {
  const findings: Finding[] = [];
  const imports: PickleImport[] = [];
  let pos = start;
  let streams = 0;
  while (pos < data.length && streams < maxStreams) {
    if (!looksLikePickle(data, pos) && streams > 0) break; // trailing non-pickle data (legacy torch storages …)
    streams++;
    const r = walkPickle(data, pos, SCAN_PICKLE_LIMITS);
    judge(r.events, location, findings, imports);
    let suspiciousBeforeBreak = false;
    for (const e of r.events) {
      if (e.type === 'import' && classifyGlobal(e.module!, e.name!).class !== 'benign') suspiciousBeforeBreak = true;
    }
    // Embedded pickles in constants.
    if (depth < MAX_DEPTH && r.value !== undefined) scanConstants(r.value, location, depth, findings, imports);
    if (r.error) {
      if (r.error.code === 'LIMIT_EXCEEDED') {
        findings.push({
          rule: 'PKL-009',
          severity: 'medium',
          location: at(location, r.error.offset),
          evidence: r.error.message,
          message: 'the pickle exceeds resource limits (opcodes, stack, memo or container size): a denial-of-service shape; the rest was not scanned',
          incomplete: true,
        });
        break;
      }
      const attack = suspiciousBeforeBreak || r.events.some((e) => e.type === 'call' && classifyTarget(e.target) !== 'benign');
      findings.push({
        rule: 'PKL-008',
        severity: attack ? 'high' : 'low',
        location: at(location, r.error.offset),
        evidence: `${r.error.message} (after ${r.opcodes} opcodes${r.events.length ? `, ${r.events.filter((e) => e.type === 'import').length} imports` : ''})`,
        message: attack
          ? 'a pickle stream breaks after importing or calling non-allow-listed code: loaders run what precedes the break'
          : 'the pickle stream is malformed (truncated or invalid opcode)',
        malformed: !attack,
      });
      // Resume at the next plausible stream start after the break.
      const next = findNextPickle(data, Math.max(r.error.offset + 1, pos + 1));
      if (next < 0) break;
      pos = next;
      continue;
    }
    pos = r.end;
  }
  return { findings, imports, streams };
}

function findNextPickle(data: Uint8Array, from: number): number {
  for (let i = from; i < data.length - 1 && i < from + 1024 * 1024; i++) {
    if (data[i] === 0x80 && data[i + 1]! >= 2 && data[i + 1]! <= 5) return i;
  }
  return -1;
}

function classifyTarget(t: PickleEvent['target']): 'benign' | 'dangerous' | 'unknown' {
  const g = rootGlobal(t as PValue);
  if (!g) return 'unknown';
  return g.computed ? 'dangerous' : classifyGlobal(g.module, g.name).class;
}

function judge(events: PickleEvent[], location: string, findings: Finding[], imports: PickleImport[]): void {
  for (const e of events) {
    if (e.type === 'import') {
      const name = `${e.module}.${e.name}`;
      const g = e.target as PValue;
      if (e.computed) {
        findings.push({
          rule: 'PKL-002',
          severity: 'critical',
          location: at(location, e.offset),
          evidence: `STACK_GLOBAL with operands that are not string constants: ${name}`,
          message: 'the imported name is computed at load time, so no scanner can know what runs; legitimate files never do this',
        });
        imports.push({ global: name, class: 'dangerous', location: at(location, e.offset) });
        continue;
      }
      const v = classifyGlobal(e.module!, e.name!);
      imports.push({ global: name, class: v.class, location: at(location, e.offset) });
      if (v.class === 'dangerous') {
        const scanner = SCANNER_MODULES.test(e.module!);
        const dunder = v.why.startsWith('dunder') || v.why.startsWith('attribute path');
        findings.push({
          rule: scanner ? 'PKL-011' : dunder ? 'PKL-003' : 'PKL-001',
          severity: 'critical',
          location: at(location, e.offset),
          evidence: `${name} ${reach(events, g)} (${v.why})`,
          message: scanner
            ? 'the pickle imports a security scanner, a known trick to disable or fool it'
            : dunder
              ? 'the import walks object internals or into another module, a sandbox-escape pattern'
              : 'loading this pickle can run code, touch files or the network through this import',
        });
      } else if (v.class === 'unknown') {
        findings.push({
          rule: 'PKL-006',
          severity: 'medium',
          location: at(location, e.offset),
          evidence: `${name} ${reach(events, g)}`,
          message: 'import outside the allow-list of plain tensor checkpoints: torch.load(weights_only=True) refuses it, and it may run code',
        });
      }
    } else if (e.type === 'ext') {
      findings.push({
        rule: 'PKL-010',
        severity: 'medium',
        location: at(location, e.offset),
        evidence: `${e.op} code ${e.name} (copyreg extension registry)`,
        message: 'an import by extension-registry number hides which global is loaded',
      });
    } else if ((e.type === 'build' || e.type === 'setitem') && isBareGlobal(e.target)) {
      const g = e.target as { module: string; name: string };
      findings.push({
        rule: 'PKL-004',
        severity: 'critical',
        location: at(location, e.offset),
        evidence: `${e.op} applied to the imported ${g.module}.${g.name}`,
        message: 'the pickle modifies an imported module or class (monkey-patching), which can redirect later imports to any code',
      });
    } else if (e.type === 'call' && isCallOfCall(e.target)) {
      const inner = rootGlobal(e.target as PValue);
      const cls = inner ? classifyGlobal(inner.module, inner.name).class : 'unknown';
      if (cls !== 'benign') {
        findings.push({
          rule: 'PKL-007',
          severity: 'medium',
          location: at(location, e.offset),
          evidence: `calls the result of ${describe(e.target as PValue)} through ${e.op}`,
          message: 'the pickle calls a callable produced at load time (a gadget chain shape)',
        });
      }
    }
  }
}

function isBareGlobal(t: PickleEvent['target']): boolean {
  return !!t && typeof t === 'object' && (t as { kind?: string }).kind === 'global';
}

function isCallOfCall(t: PickleEvent['target']): boolean {
  return !!t && typeof t === 'object' && (t as { kind?: string }).kind === 'call';
}

const BASE64 = /^[A-Za-z0-9+/\r\n]{24,}={0,2}$/;

/** Look for pickles hidden in constants: bytes, latin-1 strings, base64 text, zlib blobs. */
function scanConstants(root: PValue, location: string, depth: number, findings: Finding[], imports: PickleImport[]): void {
  const seen = new Set<object>();
  let budget = 100_000;
  const visit = (v: PValue, d: number): void => {
    if (budget-- <= 0 || d > 64) return;
    if (typeof v === 'string') {
      if (v.length >= 4 && v.charCodeAt(0) === 0x80) tryInner(Uint8Array.from(v, (c) => c.charCodeAt(0) & 0xff), 'latin-1 string');
      else if (v.length >= 24 && BASE64.test(v)) {
        try {
          const bin = atob(v.replace(/\s+/g, ''));
          tryInner(Uint8Array.from(bin, (c) => c.charCodeAt(0)), 'base64 string');
        } catch {
          /* not base64 */
        }
      }
      return;
    }
    if (!v || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    switch (v.kind) {
      case 'bytes':
        tryInner(v.bytes, 'bytes constant');
        return;
      case 'tuple': case 'list': case 'set':
        for (const x of v.items) visit(x, d + 1);
        return;
      case 'dict':
        for (const [k, x] of v.entries) (visit(k, d + 1), visit(x, d + 1));
        return;
      case 'call':
        visit(v.func, d + 1);
        visit(v.args, d + 1);
        if (v.kwargs !== undefined) visit(v.kwargs, d + 1);
        return;
      case 'build':
        visit(v.obj, d + 1);
        visit(v.state, d + 1);
        return;
      case 'persid':
        visit(v.pid, d + 1);
        return;
      default:
        return;
    }
  };
  const tryInner = (b: Uint8Array, what: string): void => {
    let data = b;
    let how = what;
    if (b.length > 2 && b[0] === 0x78 && (b[1] === 0x01 || b[1] === 0x5e || b[1] === 0x9c || b[1] === 0xda)) {
      const inflated = inflateCapped(b, 64 * 1024 * 1024, 'zlib');
      if (!inflated) return;
      data = inflated;
      how = `zlib-compressed ${what}`;
    }
    if (!looksLikePickle(data)) return;
    const inner = scanPickle(data, `${location} > ${how}`, depth + 1, 0, 4);
    if (inner.streams === 0) return;
    const dangerous = inner.findings.some((f) => f.severity === 'critical' || f.severity === 'high');
    findings.push({
      rule: 'PKL-005',
      severity: dangerous ? 'critical' : 'medium',
      location: `${location} > ${how}`,
      evidence: `a pickle of ${data.length} bytes is embedded in a ${how}${inner.imports.length ? ` importing ${[...new Set(inner.imports.map((i) => i.global))].slice(0, 5).join(', ')}` : ''}`,
      message: dangerous ? 'a hidden second-stage pickle with dangerous imports' : 'a hidden second-stage pickle: harmless alone, dangerous if some code unpickles it',
    });
    findings.push(...inner.findings);
    imports.push(...inner.imports);
  };
  visit(root, 0);
}
