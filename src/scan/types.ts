/** Plain-data types of `scan` (findings, verdicts) and the verdict policy. */
import type { FormatRef } from '../types.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

/** A model's verdict. `unscanned` = part of it could not be scanned (encrypted, unsupported, a limit hit): never reported clean. */
export type Verdict = 'malicious' | 'suspicious' | 'malformed' | 'benign' | 'unscanned';

export interface Finding {
  /** Stable rule id (documented in the README), e.g. PKL-001. */
  rule: string;
  severity: Severity;
  /** Where: `model.pt > archive/data.pkl @ offset 1234`. */
  location: string;
  /** What was seen: `os.system reached through REDUCE`. */
  evidence: string;
  /** One-line explanation of why it matters. */
  message: string;
  /** The finding is about a damaged file rather than an attack (verdict `malformed` instead of `malicious`). */
  malformed?: boolean;
  /** The scan of this part is incomplete (verdict at least `unscanned`). */
  incomplete?: boolean;
}

/** One pickle global, as `torch.load(weights_only=True)` would need it allowed. */
export interface PickleImport {
  global: string;
  class: 'benign' | 'dangerous' | 'unknown';
  location: string;
}

export interface ScanReport {
  path: string;
  format: FormatRef | null;
  verdict: Verdict;
  findings: Finding[];
  /** Every global the model's pickles import (sorted, unique). */
  imports: string[];
  /** Per-import classification with where it was seen. */
  importDetails?: PickleImport[];
  /** Parts that were seen and scanned (pickles, archive members, templates …). */
  scanned: string[];
  error?: { code: string; message: string };
}

const ORDER: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export function severityRank(s: Severity): number {
  return ORDER.indexOf(s);
}

/**
 * Verdict policy: critical/high → malicious (or malformed when the finding is about damage);
 * medium → suspicious; an incomplete part → at least unscanned; else benign.
 */
export function verdictOf(findings: Finding[]): Verdict {
  const attack = findings.filter((f) => !f.malformed && (f.severity === 'critical' || f.severity === 'high'));
  if (attack.length) return 'malicious';
  if (findings.some((f) => f.malformed && (f.severity === 'critical' || f.severity === 'high'))) return 'malformed';
  if (findings.some((f) => f.incomplete)) return 'unscanned';
  if (findings.some((f) => f.severity === 'medium')) return 'suspicious';
  return 'benign';
}

/** `unscanned` ranks with `suspicious`: what was not seen cannot be called safe. */
const VERDICT_RANK: Record<Verdict, number> = { benign: 0, malformed: 1, unscanned: 2, suspicious: 2, malicious: 3 };

/** Does `v` reach the `--fail-on` level? */
export function reaches(v: Verdict, level: 'suspicious' | 'malicious'): boolean {
  return VERDICT_RANK[v] >= VERDICT_RANK[level];
}
