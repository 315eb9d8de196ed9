/** Human and SARIF 2.1.0 renderings of scan reports. */
import { RULES } from '../scan/rules.js';
import type { ScanReport, Severity } from '../scan/types.js';
import { versionText } from './inspect.js';

const MARK: Record<string, string> = { malicious: 'MALICIOUS', suspicious: 'suspicious', malformed: 'malformed', benign: 'benign', unscanned: 'UNSCANNED (incomplete)' };

export function renderScan(r: ScanReport): string {
  const out: string[] = [];
  const fmt = r.format ? `${r.format.name}${versionText(r.format.version)}` : 'not a recognised model';
  const notes = r.findings.filter((f) => f.severity === 'info').length;
  out.push(`${r.path}: ${MARK[r.verdict]} — ${fmt}, ${r.findings.length - notes} finding(s)${notes ? `, ${notes} note(s)` : ''}`);
  const order: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
  const sorted = [...r.findings].sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity));
  for (const f of sorted.slice(0, 50)) {
    out.push(`  [${f.severity}] ${f.rule} ${f.location}`);
    out.push(`      ${f.evidence}`);
    out.push(`      ${f.message}`);
  }
  if (sorted.length > 50) out.push(`  … ${sorted.length - 50} more findings (--json for all)`);
  if (r.imports.length) {
    out.push(`  imports (${r.imports.length}): ${r.imports.join(', ')}`);
    const notAllowed = (r.importDetails ?? []).filter((i) => i.class !== 'benign').map((i) => i.global);
    out.push(notAllowed.length ? `  torch.load(weights_only=True) would refuse: ${notAllowed.join(', ')}` : '  every import is on the allow-list of plain tensor checkpoints');
  }
  if (r.error) out.push(`  error: ${r.error.message}`);
  return out.join('\n');
}

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };

/** SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/) for code-scanning tools. */
export function toSarif(reports: ScanReport[], version: string): unknown {
  const used = new Set(reports.flatMap((r) => r.findings.map((f) => f.rule)));
  const ruleIds = [...used].sort();
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'modelwise',
            version,
            informationUri: 'https://www.npmjs.com/package/modelwise',
            rules: ruleIds.map((id) => ({ id, name: id, shortDescription: { text: RULES[id] ?? id }, fullDescription: { text: RULES[id] ?? id } })),
          },
        },
        results: reports.flatMap((r) =>
          r.findings.map((f) => ({
            ruleId: f.rule,
            ruleIndex: ruleIds.indexOf(f.rule),
            level: LEVEL[f.severity],
            message: { text: `${f.evidence} — ${f.message}` },
            locations: [{ physicalLocation: { artifactLocation: { uri: sarifUri(r.path) } }, logicalLocations: [{ fullyQualifiedName: f.location }] }],
            properties: { severity: f.severity, verdict: r.verdict, location: f.location },
          })),
        ),
        invocations: [{ executionSuccessful: reports.every((r) => !r.error) }],
      },
    ],
  };
}

/** SARIF artifact URI: relative paths as they are, absolute ones as file:// URIs. */
function sarifUri(path: string): string {
  const p = path.replace(/\\/g, '/');
  if (/^[a-z]+:\/\//i.test(p)) return p;
  if (p.startsWith('/')) return `file://${encodeURI(p)}`;
  if (/^[a-zA-Z]:\//.test(p)) return `file:///${encodeURI(p)}`;
  return encodeURI(p);
}
