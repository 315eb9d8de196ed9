/**
 * The head of an XML document, read by hand: the prolog (XML declaration, comments, processing
 * instructions, DOCTYPE with an internal subset) and the root start tag with its attributes.
 * Enough to tell an XML vocabulary by its root; no entity is ever expanded and no DTD fetched.
 * (https://www.w3.org/TR/xml/#sec-prolog-dtd)
 */
import { decodeLatin1 } from '../../io/bytes.js';
import type { Probe } from '../../identify/probe.js';

/** The head as text: UTF-8 (via the probe), UTF-16 with a BOM, or Latin-1 for legacy encodings. */
export async function xmlHeadText(probe: Probe): Promise<string | undefined> {
  const head = await probe.head();
  if (head.length < 4) return undefined;
  let t: string | undefined;
  if (head[0] === 0xff && head[1] === 0xfe) t = new TextDecoder('utf-16le').decode(head.subarray(2, head.length & ~1));
  else if (head[0] === 0xfe && head[1] === 0xff) t = new TextDecoder('utf-16be').decode(head.subarray(2, head.length & ~1));
  else t = await probe.text();
  if (t === undefined) {
    // Not valid UTF-8 (ISO-8859-1 documents): accept when it starts like XML.
    let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
    while (i < head.length && (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d)) i++;
    if (head[i] !== 0x3c) return undefined;
    t = decodeLatin1(head.subarray(i));
  }
  if (t.charCodeAt(0) === 0xfeff) t = t.slice(1);
  return /^\s*</.test(t) ? t : undefined;
}

export interface RootElement {
  /** Qualified name as written (`PMML`, `p:PMML`). */
  name: string;
  prefix?: string;
  localName: string;
  /** The raw attribute text of the start tag. */
  attributes: string;
  doctype: boolean;
}

/** Skip the prolog and return the root start tag; undefined when the text is not XML or is cut before it. */
export function rootElement(t: string): RootElement | undefined {
  let i = 0;
  let doctype = false;
  const n = t.length;
  for (let guard = 0; guard < 10_000; guard++) {
    while (i < n && /\s/.test(t[i]!)) i++;
    if (t.startsWith('<?', i)) {
      const e = t.indexOf('?>', i + 2);
      if (e < 0) return undefined;
      i = e + 2;
    } else if (t.startsWith('<!--', i)) {
      const e = t.indexOf('-->', i + 4);
      if (e < 0) return undefined;
      i = e + 3;
    } else if (t.startsWith('<!DOCTYPE', i)) {
      const e = skipDoctype(t, i + 9);
      if (e < 0) return undefined;
      i = e;
      doctype = true;
    } else if (t[i] === '<') {
      const m = /^<([A-Za-z_][\w.-]*)(?::([A-Za-z_][\w.-]*))?/.exec(t.slice(i, i + 256));
      if (!m) return undefined;
      const end = tagEnd(t, i + m[0].length);
      if (end < 0) return undefined;
      const prefix = m[2] ? m[1] : undefined;
      const localName = m[2] ?? m[1]!;
      return { name: m[2] ? `${m[1]}:${m[2]}` : m[1]!, ...(prefix ? { prefix } : {}), localName, attributes: t.slice(i + m[0].length, end), doctype };
    } else return undefined;
  }
  return undefined;
}

/** Index just past the `>` that closes a DOCTYPE (quotes and an internal subset skipped), or -1. */
function skipDoctype(t: string, i: number): number {
  let inSubset = false;
  while (i < t.length) {
    const c = t[i]!;
    if (c === '"' || c === "'") {
      const e = t.indexOf(c, i + 1);
      if (e < 0) return -1;
      i = e + 1;
    } else if (inSubset && t.startsWith('<!--', i)) {
      const e = t.indexOf('-->', i + 4);
      if (e < 0) return -1;
      i = e + 3;
    } else if (c === '[') {
      inSubset = true;
      i++;
    } else if (c === ']') {
      inSubset = false;
      i++;
    } else if (c === '>' && !inSubset) return i + 1;
    else i++;
  }
  return -1;
}

/** Index of the `>` (or `/>`) ending a start tag, quotes respected; -1 when cut. */
function tagEnd(t: string, i: number): number {
  while (i < t.length) {
    const c = t[i]!;
    if (c === '"' || c === "'") {
      const e = t.indexOf(c, i + 1);
      if (e < 0) return -1;
      i = e + 1;
    } else if (c === '>') return t[i - 1] === '/' ? i - 1 : i;
    else i++;
  }
  return -1;
}

/** Value of attribute `name` in raw attribute text, with the predefined and numeric entities decoded (no others). */
export function attribute(attrs: string, name: string): string | undefined {
  const esc = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`(?:^|\\s)${esc}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(attrs);
  if (!m) return undefined;
  return (m[1] ?? m[2]!).replace(/&(lt|gt|amp|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});/g, (_, e: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    if (named[e]) return named[e]!;
    const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
  });
}
