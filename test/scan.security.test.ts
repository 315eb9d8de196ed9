/**
 * Security conformance: every sample of ../shared/corpus/security gets at least the verdict its
 * MANIFEST.tsv expects (malicious samples at least as severe; benign ones never malicious), and
 * every real model of the corpus scans without error and is never reported malicious.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS, SKIP_CORPUS, expectedModels } from './helpers/corpus.js';
import { scanPath } from '../src/node/index.js';

if (SKIP_CORPUS) console.log(`# ${SKIP_CORPUS}`);

const RANK: Record<string, number> = { benign: 0, malformed: 1, unscanned: 2, suspicious: 2, malicious: 3 };

function manifest(): { path: string; expected: string; notes: string }[] {
  if (SKIP_CORPUS) return [];
  const lines = readFileSync(join(CORPUS, 'security', 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const head = lines[0]!.split('\t');
  const col = (n: string) => head.indexOf(n);
  return lines.slice(1).map((l) => {
    const c = l.split('\t');
    return { path: c[col('path')]!, expected: c[col('modelwise_expected')]!, notes: c[col('notes')] ?? '' };
  });
}

describe('scan: security samples', { skip: SKIP_CORPUS }, () => {
  for (const s of manifest()) {
    it(`${s.path} → ${s.expected}`, async () => {
      const r = await scanPath(join(CORPUS, 'security', s.path));
      const detail = `${r.verdict}: ${r.findings.map((f) => `${f.rule} ${f.evidence}`).join('; ').slice(0, 400)}`;
      if (s.expected === 'malicious') assert.equal(r.verdict, 'malicious', detail);
      else if (s.expected === 'benign') assert.notEqual(r.verdict, 'malicious', detail);
      else assert.ok(RANK[r.verdict]! >= RANK[s.expected]!, `expected at least ${s.expected}, got ${detail}`);
    });
  }
});

describe('scan: real models are never malicious', { skip: SKIP_CORPUS }, () => {
  for (const m of expectedModels()) {
    it(m.model, async () => {
      const r = await scanPath(m.path);
      assert.equal(r.error, undefined);
      assert.notEqual(r.verdict, 'malicious', r.findings.map((f) => `${f.rule} ${f.location}: ${f.evidence}`).join('; '));
    });
  }
});
