/**
 * PMML (XML) security rules. PMML evaluators (JPMML, Nyoka, pypmml's Java backend, SAS, KNIME) parse
 * the document with general XML parsers, several of which resolve DTDs and entities by default.
 * - XML-001 (high): a DOCTYPE with an external subset or external entities (SYSTEM / PUBLIC, also
 *   parameter entities): XXE — local file disclosure, SSRF.
 * - XML-002 (medium): internal entity declarations (entity expansion, "billion laughs" when they
 *   reference each other); any other DOCTYPE is low (PMML never needs one).
 * - XML-003 (info / medium): `Extension` elements (vendor payloads evaluators may interpret):
 *   counted as info; script- or code-like content is medium.
 * The DOCTYPE is read from the head (it can only precede the root element); the document is then
 * streamed for Extension elements with ../../codecs/xml.ts, which never expands entities.
 */
import { parseXml } from '../../codecs/xml.js';
import { ModelwiseError } from '../../errors.js';
import { decodeLatin1 } from '../../io/bytes.js';
import type { ByteSource } from '../../io/source.js';
import { registerRules } from '../../scan/rules.js';
import type { ScanState } from '../../scan/scan.js';
import type { Finding } from '../../scan/types.js';
import type { InspectInput } from '../types.js';

registerRules({
  'XML-001': 'XML DOCTYPE with an external subset or external entities (XXE)',
  'XML-002': 'XML internal entity declarations (entity expansion, billion laughs) or an unexpected DOCTYPE',
  'XML-003': 'PMML Extension elements (script-like content: suspicious; otherwise informational)',
});

const HEAD_BYTES = 1024 * 1024;
const SCRIPT = /<script\b|javascript:|\beval\s*\(|\bexec\s*\(|\bimport\s+(os|subprocess|sys)\b|__import__|\bos\.(system|popen)|\bsubprocess\.|Runtime\.getRuntime\(\)|ProcessBuilder|\bClass\.forName\b|java\.lang\.reflect|\bScriptEngine\b|\$\{jndi:|\/bin\/(ba|z)?sh\b|\bpowershell\b|\bcmd\.exe\b|\bcurl\s+\S|\bwget\s+\S/i;

/** DOCTYPE findings from the document head (text before the root element). */
export function doctypeFindings(head: string, where: string): Finding[] {
  const out: Finding[] = [];
  const start = head.search(/<!DOCTYPE\b/i);
  if (start < 0) return out;
  // The DOCTYPE must come before the root element; a "<!DOCTYPE" inside content is just text.
  const firstElement = head.slice(0, start).search(/<[A-Za-z_]/);
  if (firstElement >= 0) return out;
  let end = head.length;
  const bracket = head.indexOf('[', start);
  const gt = head.indexOf('>', start);
  if (bracket >= 0 && (gt < 0 || bracket < gt)) {
    const close = head.indexOf(']', bracket);
    end = close >= 0 ? head.indexOf('>', close) + 1 || head.length : head.length;
  } else if (gt >= 0) end = gt + 1;
  const doctype = head.slice(start, end);
  const clip = (s: string) => (s.length > 240 ? `${s.slice(0, 240)}…` : s);
  const externalSubset = /^<!DOCTYPE\s+[^\s[>]+\s+(SYSTEM|PUBLIC)\b\s*("[^"]*"|'[^']*')(\s*("[^"]*"|'[^']*'))?/i.exec(doctype);
  if (externalSubset) {
    out.push({ rule: 'XML-001', severity: 'high', location: where, evidence: `external DTD: ${clip(externalSubset[0])}`, message: 'XML parsers that load DTDs fetch this URI when reading the model (XXE / SSRF)' });
  }
  const entities = [...doctype.matchAll(/<!ENTITY\s+(%\s+)?([^\s>]+)\s+(?:(SYSTEM|PUBLIC)\s+("[^"]*"|'[^']*')(?:\s+("[^"]*"|'[^']*'))?|("[^"]*"|'[^']*'))/gi)];
  const external = entities.filter((m) => m[3]);
  const internal = entities.filter((m) => !m[3]);
  for (const m of external.slice(0, 10)) {
    out.push({ rule: 'XML-001', severity: 'high', location: where, evidence: `external ${m[1] ? 'parameter ' : ''}entity ${m[2]} ${m[3]} ${clip(m[5] ?? m[4] ?? '')}`, message: 'an external entity makes XML parsers read a local file or fetch a URL into the document (XXE)' });
  }
  if (internal.length) {
    const nested = internal.filter((m) => /&[^\s;]+;/.test(m[6] ?? '')).length;
    out.push({
      rule: 'XML-002',
      severity: 'medium',
      location: where,
      evidence: `${internal.length} internal entit${internal.length === 1 ? 'y' : 'ies'} (${internal.slice(0, 5).map((m) => m[2]).join(', ')})${nested ? `, ${nested} referencing other entities (exponential expansion)` : ''}`,
      message: 'entity declarations let a document expand to gigabytes in parsers that expand them ("billion laughs"); PMML never needs them',
    });
  }
  if (!out.length) {
    out.push({ rule: 'XML-002', severity: 'low', location: where, evidence: `DOCTYPE ${clip(doctype)}`, message: 'a DOCTYPE in a PMML document is unusual (PMML is defined by an XML Schema)' });
  }
  return out;
}

async function extensionFindings(source: ByteSource, where: string): Promise<Finding[]> {
  const out: Finding[] = [];
  let count = 0;
  let inside = 0;
  let text = '';
  let current = '';
  const hits: string[] = [];
  const check = (s: string, label: string) => {
    const m = SCRIPT.exec(s);
    if (m && hits.length < 10) hits.push(`${label}: ${JSON.stringify(s.slice(Math.max(0, m.index - 40), m.index + 80))}`);
  };
  await parseXml(source, {
    startElement(tag) {
      if (tag.local === 'Extension') {
        count++;
        inside++;
        current = [tag.attributes.extender, tag.attributes.name].filter(Boolean).join('/') || `#${count}`;
        for (const v of Object.values(tag.attributes)) check(v, `Extension ${current}`);
        if (tag.selfClosing) inside--;
      } else if (inside > 0) {
        for (const v of Object.values(tag.attributes)) check(v, `Extension ${current} > ${tag.local}`);
      }
    },
    endElement(name) {
      if ((name === 'Extension' || name.endsWith(':Extension')) && inside > 0) {
        inside--;
        if (inside === 0) {
          check(text, `Extension ${current}`);
          text = '';
        }
      }
    },
    text(t) {
      if (inside > 0 && text.length < 1024 * 1024) text += t;
    },
  });
  if (hits.length) {
    out.push({ rule: 'XML-003', severity: 'medium', location: where, evidence: `script-like content in Extension elements: ${hits.slice(0, 3).join('; ')}`, message: 'vendor extensions are interpreted by some evaluators: code or commands here may run there' });
  } else if (count) {
    out.push({ rule: 'XML-003', severity: 'info', location: where, evidence: `${count} Extension element(s)`, message: 'vendor extensions (ignored by standard evaluators)' });
  }
  return out;
}

export async function scan(input: InspectInput, state: ScanState): Promise<Finding[]> {
  const probe = input.probe;
  if (!probe) return [];
  const head = await probe.source.read(0, Math.min(probe.size, HEAD_BYTES));
  // Latin-1 keeps byte positions; markup is ASCII in every encoding PMML uses except UTF-16.
  let text = decodeLatin1(head);
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0x3c && head[1] === 0)) text = new TextDecoder('utf-16le').decode(head);
  else if ((head[0] === 0xfe && head[1] === 0xff) || (head[0] === 0 && head[1] === 0x3c)) text = new TextDecoder('utf-16be').decode(head);
  const out = doctypeFindings(text, probe.path);
  try {
    out.push(...(await extensionFindings(probe.source, probe.path)));
  } catch (e) {
    if (!(e instanceof ModelwiseError)) throw e;
    if (e.code === 'LIMIT_EXCEEDED') out.push({ rule: 'SCAN-LIMIT', severity: 'medium', location: probe.path, evidence: e.message, message: 'the XML document exceeds a limit: not fully scanned', incomplete: true });
    else out.push({ rule: 'HDR-001', severity: 'low', location: probe.path, evidence: e.message, message: 'the XML is malformed: evaluators may refuse it', malformed: true });
  }
  state.scanned.push(`${probe.path} (PMML XML)`);
  return out;
}
