/**
 * A streaming, SAX-like XML tokenizer over a ByteSource (XML 1.0, https://www.w3.org/TR/xml/):
 * elements with their attributes (namespaces resolved), text, CDATA, comments, processing
 * instructions and the DOCTYPE with its internal subset. The file is read in chunks and decoded
 * incrementally, so memory stays bounded by the largest single token (capped), not by the file:
 * a 1 GB PMML document is walked with a few hundred KiB of buffers.
 *
 * Safety: no entity is ever expanded except the five predefined ones and numeric character
 * references; no DTD or external entity is fetched. DOCTYPE and ENTITY declarations (internal,
 * external SYSTEM/PUBLIC, parameter entities) are reported in the result and in diagnostics, and
 * references to declared entities are counted (left unexpanded), so a scanner can flag XXE or
 * "billion laughs" documents without being exposed to them. Counts, depths and token sizes are
 * capped (LIMIT_EXCEEDED); malformed markup throws MALFORMED naming the character position.
 */
import { ModelwiseError } from '../errors.js';
import type { ByteSource } from '../io/source.js';
import type { Diagnostic } from '../types.js';

/** A copy of `s` that does not share the memory of a larger string. */
const flat = (s: string): string => (' ' + s).slice(1);

export interface XmlStartTag {
  /** Qualified name as written (`p:Node`). */
  name: string;
  prefix: string;
  local: string;
  /** Namespace URI ('' when none). */
  uri: string;
  /** Attributes by qualified name (a null-prototype object; entity references decoded). */
  attributes: Record<string, string>;
  selfClosing: boolean;
  /** 0 for the root element. */
  depth: number;
}

export interface XmlEntityDecl {
  name: string;
  /** `<!ENTITY % name …>` */
  parameter: boolean;
  systemId?: string;
  publicId?: string;
  /** Internal entities: the replacement text's length and its start (never expanded). */
  valueLength?: number;
  value?: string;
}

export interface XmlDoctype {
  name: string;
  publicId?: string;
  systemId?: string;
  internalSubset: boolean;
  entities: XmlEntityDecl[];
  /** Markup declarations of the internal subset (ELEMENT, ATTLIST, ENTITY, NOTATION). */
  declarations: number;
}

/** Callbacks; returning `false` from one stops the walk. */
export interface XmlHandler {
  startElement?(tag: XmlStartTag): void | boolean;
  endElement?(name: string, depth: number): void | boolean;
  /** Text and CDATA (a text node may arrive in several pieces). Omit it to skip text cheaply. */
  text?(text: string, cdata: boolean): void | boolean;
  comment?(text: string): void | boolean;
  processingInstruction?(target: string, data: string): void | boolean;
  doctype?(doctype: XmlDoctype): void | boolean;
}

export interface XmlOptions {
  /** Bytes per read. Default 64 KiB (decoded chunks stay small, regular heap objects). */
  chunkSize?: number;
  /** Largest tag, comment, PI or CDATA section (chars). Default 16 Mi. */
  maxToken?: number;
  /** Largest DOCTYPE (chars). Default 1 Mi. */
  maxDoctype?: number;
  /** Deepest element nesting. Default 100 000 (PMML trees nest deeply, but not that deep). */
  maxDepth?: number;
  /** Attributes per element. Default 10 000. */
  maxAttributes?: number;
  /** Where diagnostics go (kept by the caller when the walk throws half-way). Default: a new array. */
  diagnostics?: Diagnostic[];
}

export interface XmlResult {
  encoding: string;
  /** True when the root element was closed (the document was read to its end). */
  complete: boolean;
  /** True when a handler returned false. */
  stopped: boolean;
  bytesRead: number;
  doctype?: XmlDoctype;
  /** XML declaration pseudo-attributes (version, encoding, standalone). */
  declaration?: Record<string, string>;
  /** References to entities other than the predefined ones, by name (left unexpanded). */
  entityReferences: Record<string, number>;
  diagnostics: Diagnostic[];
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const NAME_RE = /^[^\s<>"'=/!?]+/;
const NAME_Y = /[^\s<>"'=/!?]+/y;
const WS_RE = /[\t\n\r]/;
const ATTR_RE = /\s*([^\s=/>"']+)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;

/** Pick the decoder: BOM, UTF-16 without BOM, the declared encoding, else UTF-8. */
function sniffEncoding(head: Uint8Array, diagnostics: Diagnostic[]): string {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  if (head[0] === 0x3c && head[1] === 0 && head[2] === 0x3f && head[3] === 0) return 'utf-16le';
  if (head[0] === 0 && head[1] === 0x3c && head[2] === 0 && head[3] === 0x3f) return 'utf-16be';
  let decl = '';
  for (let i = 0; i < Math.min(head.length, 512); i++) decl += String.fromCharCode(head[i]!);
  const m = /^\s*<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/.exec(decl);
  if (!m) return 'utf-8';
  const label = m[1]!.toLowerCase();
  try {
    return new TextDecoder(label).encoding;
  } catch {
    diagnostics.push({ code: 'XML_ENCODING_UNKNOWN', message: `declared encoding '${m[1]}' is not supported: read as UTF-8` });
    return 'utf-8';
  }
}

/** Decode the predefined entities and character references; other references stay as written. */
export function decodeEntities(s: string, refs?: Record<string, number>): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]{1,8}|#[0-9]{1,10}|[^\s&;<]{1,64});/g, (all, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
    }
    const p = PREDEFINED[e];
    if (p !== undefined) return p;
    if (refs) refs[e] = (refs[e] ?? 0) + 1;
    return all;
  });
}

/** Parse the inside of `<!DOCTYPE … >` (without the delimiters). */
function parseDoctype(body: string): XmlDoctype {
  const m = /^\s*([^\s[>]+)\s*(?:(SYSTEM)\s*("[^"]*"|'[^']*')|(PUBLIC)\s*("[^"]*"|'[^']*')\s*("[^"]*"|'[^']*')?)?/.exec(body);
  const unq = (s: string | undefined) => (s === undefined ? undefined : s.slice(1, -1));
  const d: XmlDoctype = { name: m?.[1] ?? '', internalSubset: false, entities: [], declarations: 0 };
  if (m?.[2]) d.systemId = unq(m[3]);
  if (m?.[4]) {
    d.publicId = unq(m[5]);
    if (m[6]) d.systemId = unq(m[6]);
  }
  const open = body.indexOf('[');
  if (open < 0) return d;
  d.internalSubset = true;
  const subset = body.slice(open + 1, body.lastIndexOf(']') > open ? body.lastIndexOf(']') : body.length);
  const declRe = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!(ENTITY|ELEMENT|ATTLIST|NOTATION)\b((?:[^>"']|"[^"]*"|'[^']*')*)>/g;
  for (const x of subset.matchAll(declRe)) {
    if (!x[1]) continue;
    d.declarations++;
    if (x[1] !== 'ENTITY' || d.entities.length >= 10_000) continue;
    const e = /^\s*(%\s+)?([^\s]+)\s*(?:(SYSTEM)\s*("[^"]*"|'[^']*')|(PUBLIC)\s*("[^"]*"|'[^']*')\s*("[^"]*"|'[^']*')|("[^"]*"|'[^']*'))?/.exec(x[2]!);
    if (!e) continue;
    const ent: XmlEntityDecl = { name: e[2]!, parameter: !!e[1] };
    if (e[3]) ent.systemId = unq(e[4]);
    if (e[5]) (ent.publicId = unq(e[6])), (ent.systemId = unq(e[7]));
    if (e[8]) {
      const v = unq(e[8])!;
      ent.valueLength = v.length;
      ent.value = v.length > 200 ? v.slice(0, 200) + '…' : v;
    }
    d.entities.push(ent);
  }
  return d;
}

/** Walk an XML document from `source`, calling `handler` for each token. */
export async function parseXml(source: ByteSource, handler: XmlHandler, opts: XmlOptions = {}): Promise<XmlResult> {
  const chunkSize = opts.chunkSize ?? 64 * 1024;
  const maxToken = opts.maxToken ?? 16 * 1024 * 1024;
  const maxDoctype = opts.maxDoctype ?? 1024 * 1024;
  const maxDepth = opts.maxDepth ?? 100_000;
  const maxAttributes = opts.maxAttributes ?? 10_000;
  const diagnostics: Diagnostic[] = opts.diagnostics ?? [];
  const head = await source.read(0, Math.min(source.size, 512));
  const encoding = sniffEncoding(head, diagnostics);
  const decoder = new TextDecoder(encoding, { fatal: false });
  const res: XmlResult = { encoding, complete: false, stopped: false, bytesRead: 0, entityReferences: Object.create(null) as Record<string, number>, diagnostics };

  let buf = '';
  let pos = 0;
  let base = 0; // characters before buf[0]
  let fileAt = 0;
  let eof = false;
  /** Read the next chunk; `grow` (a token longer than a chunk) doubles it, so a long token costs linear time. */
  const more = async (grow = false): Promise<boolean> => {
    if (eof) return false;
    const n = Math.min(grow ? Math.max(chunkSize, Math.min(buf.length - pos, 16 * 1024 * 1024)) : chunkSize, source.size - fileAt);
    const bytes = n > 0 ? await source.read(fileAt, n) : new Uint8Array(0);
    if (bytes.length !== n) throw new ModelwiseError('UNEXPECTED_EOF', `wanted ${n} bytes, got ${bytes.length}`, { file: source.name, offset: fileAt });
    fileAt += n;
    res.bytesRead += n;
    eof = fileAt >= source.size;
    const text = decoder.decode(bytes, { stream: !eof });
    base += pos;
    buf = buf.slice(pos) + text;
    pos = 0;
    return true;
  };
  const fail = (at: number, msg: string): never => {
    throw new ModelwiseError('MALFORMED', `${msg} at character ${base + at}`, { file: source.name });
  };

  const stack: string[] = [];
  const scopes: Record<string, string>[] = [Object.assign(Object.create(null) as Record<string, string>, { xml: XML_NS, '': '' })];
  let rootSeen = false;
  let declaredEntities: Set<string> | undefined;
  let strayText = false;
  let resume = -1; // chars after pos where a terminator search resumes (long comments, CDATA)
  const stop = (r: void | boolean): boolean => {
    if (r === false) res.stopped = true;
    return r === false;
  };

  const emitText = (s: string, cdata: boolean): boolean => {
    if (!s) return false;
    if (stack.length === 0) {
      if (!strayText && /\S/.test(s)) {
        strayText = true;
        diagnostics.push({ code: 'XML_TEXT_OUTSIDE_ROOT', message: `text outside the root element at character ${base + pos}` });
      }
      return false;
    }
    if (!handler.text) {
      if (!cdata && declaredEntities && s.indexOf('&') >= 0) decodeEntities(s, res.entityReferences);
      return false;
    }
    return stop(handler.text(cdata ? s : decodeEntities(s, res.entityReferences), cdata));
  };

  /** End index (exclusive) of a start tag whose name starts at `from`, quotes respected; -1 when cut. */
  const tagEnd = (from: number): number => {
    const n = buf.length;
    for (let i = from; i < n; i++) {
      const c = buf.charCodeAt(i);
      if (c === 62) return i + 1;
      if (c === 34 || c === 39) {
        const close = buf.indexOf(c === 34 ? '"' : "'", i + 1);
        if (close < 0) return -1;
        i = close;
      }
    }
    return -1;
  };

  const doctypeEnd = (from: number): number => {
    let i = from;
    let subset = false;
    while (i < buf.length) {
      const c = buf[i]!;
      if (c === '"' || c === "'") {
        const e = buf.indexOf(c, i + 1);
        if (e < 0) return -1;
        i = e + 1;
      } else if (subset && buf.startsWith('<!--', i)) {
        const e = buf.indexOf('-->', i + 4);
        if (e < 0) return -1;
        i = e + 3;
      } else if (c === '[') (subset = true), i++;
      else if (c === ']') (subset = false), i++;
      else if (c === '>' && !subset) return i + 1;
      else i++;
    }
    return -1;
  };

  const startTag = (end: number): boolean => {
    const selfClosing = buf.charCodeAt(end - 2) === 47;
    const innerEnd = selfClosing ? end - 2 : end - 1;
    NAME_Y.lastIndex = pos + 1;
    const nm = NAME_Y.exec(buf);
    if (!nm || NAME_Y.lastIndex > innerEnd) return fail(pos, 'malformed start tag');
    const name = nm[0];
    const attributes = Object.create(null) as Record<string, string>;
    let nAttr = 0;
    let scope: Record<string, string> | undefined;
    let at = NAME_Y.lastIndex;
    for (;;) {
      ATTR_RE.lastIndex = at;
      const a = ATTR_RE.exec(buf);
      if (!a || ATTR_RE.lastIndex > innerEnd) break;
      at = ATTR_RE.lastIndex;
      if (++nAttr > maxAttributes) throw new ModelwiseError('LIMIT_EXCEEDED', `more than ${maxAttributes} attributes on <${name}> at character ${base + pos}`, { file: source.name });
      let value = a[2] ?? a[3]!;
      if (WS_RE.test(value)) value = value.replace(/[\t\n\r]/g, ' ');
      if (value.indexOf('&') >= 0) value = decodeEntities(value, res.entityReferences);
      // Copy: a substring would pin the whole decoded chunk in memory for as long as a caller keeps it.
      attributes[flat(a[1]!)] = flat(value);
      if (a[1] === 'xmlns' || a[1]!.startsWith('xmlns:')) {
        scope ??= Object.create(scopes[scopes.length - 1]!) as Record<string, string>;
        scope[a[1] === 'xmlns' ? '' : a[1]!.slice(6)] = value;
      }
    }
    if (at < innerEnd && /\S/.test(buf.slice(at, innerEnd))) fail(pos, `malformed attributes in <${name}>: '${buf.slice(at, Math.min(innerEnd, at + 40)).trim()}'`);
    if (stack.length === 0 && rootSeen) fail(pos, `second root element <${name}>`);
    rootSeen = true;
    if (stack.length >= maxDepth) throw new ModelwiseError('LIMIT_EXCEEDED', `elements nested deeper than ${maxDepth} at character ${base + pos}`, { file: source.name });
    const ns = scope ?? scopes[scopes.length - 1]!;
    const colon = name.indexOf(':');
    const prefix = colon > 0 ? name.slice(0, colon) : '';
    const local = colon > 0 ? name.slice(colon + 1) : name;
    const uri = ns[prefix];
    if (uri === undefined && diagnostics.length < 100) diagnostics.push({ code: 'XML_UNBOUND_PREFIX', message: `prefix '${prefix}' of <${name}> is not declared` });
    const tag: XmlStartTag = { name, prefix, local, uri: uri ?? '', attributes, selfClosing, depth: stack.length };
    pos = end;
    if (handler.startElement && stop(handler.startElement(tag))) return true;
    if (selfClosing) {
      if (stack.length === 0) res.complete = true;
      return !!handler.endElement && stop(handler.endElement(name, stack.length));
    }
    stack.push(name);
    scopes.push(ns);
    return false;
  };

  for (;;) {
    if (pos >= buf.length) {
      if (!(await more())) break;
      continue;
    }
    if (buf.charCodeAt(pos) !== 60) {
      const lt = buf.indexOf('<', pos);
      if (lt >= 0) {
        const s = buf.slice(pos, lt);
        pos = lt;
        if (emitText(s, false)) return res;
        continue;
      }
      // Text runs past the buffer: hand out what is complete (not a cut entity reference).
      let cut = buf.length;
      const amp = buf.lastIndexOf('&');
      if (!eof && amp >= pos && buf.indexOf(';', amp) < 0 && buf.length - amp < 80) cut = amp;
      const s = buf.slice(pos, cut);
      pos = cut;
      if (emitText(s, false)) return res;
      if (!(await more())) break;
      continue;
    }
    // Markup at pos (classify it with at least 9 characters in hand).
    if (buf.length - pos < 9 && !eof) {
      await more();
      continue;
    }
    let end = -1;
    let kind: 'pi' | 'comment' | 'cdata' | 'doctype' | 'end' | 'start';
    const from = (n: number): number => Math.max(pos + n, resume >= 0 ? pos + resume : 0);
    if (buf.startsWith('<?', pos)) {
      kind = 'pi';
      const e = buf.indexOf('?>', from(2));
      end = e < 0 ? -1 : e + 2;
    } else if (buf.startsWith('<!--', pos)) {
      kind = 'comment';
      const e = buf.indexOf('-->', from(4));
      end = e < 0 ? -1 : e + 3;
    } else if (buf.startsWith('<![CDATA[', pos)) {
      kind = 'cdata';
      const e = buf.indexOf(']]>', from(9));
      end = e < 0 ? -1 : e + 3;
    } else if (buf.startsWith('<!DOCTYPE', pos)) {
      kind = 'doctype';
      end = doctypeEnd(pos + 9);
    } else if (buf.startsWith('</', pos)) {
      kind = 'end';
      const e = buf.indexOf('>', pos + 2);
      end = e < 0 ? -1 : e + 1;
    } else if (buf.startsWith('<!', pos)) {
      return fail(pos, `unknown markup '${buf.slice(pos, pos + 12)}'`);
    } else {
      kind = 'start';
      end = tagEnd(pos + 1);
    }
    if (end < 0) {
      const limit = kind === 'doctype' ? maxDoctype : maxToken;
      if (buf.length - pos > limit) throw new ModelwiseError('LIMIT_EXCEEDED', `${kind} token longer than ${limit} characters at character ${base + pos}`, { file: source.name });
      resume = Math.max(0, buf.length - pos - 3);
      if (!(await more(true))) throw new ModelwiseError('UNEXPECTED_EOF', `file ends inside a ${kind} token that starts at character ${base + pos}`, { file: source.name, offset: source.size });
      continue;
    }
    resume = -1;
    const start = pos;
    switch (kind) {
      case 'pi': {
        const body = buf.slice(pos + 2, end - 2);
        const target = NAME_RE.exec(body)?.[0] ?? '';
        pos = end;
        if (target === 'xml' && start === 0 && base === 0) {
          res.declaration = Object.create(null) as Record<string, string>;
          for (const a of body.matchAll(/([A-Za-z]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) res.declaration[a[1]!] = a[2] ?? a[3]!;
        } else if (handler.processingInstruction && stop(handler.processingInstruction(target, body.slice(target.length).trim()))) return res;
        break;
      }
      case 'comment':
        pos = end;
        if (handler.comment && stop(handler.comment(buf.slice(start + 4, end - 3)))) return res;
        break;
      case 'cdata':
        pos = end;
        if (stack.length === 0) fail(start, 'CDATA section outside the root element');
        if (emitText(buf.slice(start + 9, end - 3), true)) return res;
        break;
      case 'doctype': {
        if (rootSeen) fail(pos, 'DOCTYPE after the root element');
        const d = parseDoctype(buf.slice(pos + 9, end - 1));
        pos = end;
        res.doctype = d;
        diagnostics.push({ code: 'XML_DOCTYPE', message: `DOCTYPE ${d.name}${d.systemId ? ` (external DTD '${d.systemId}', not fetched)` : ''}${d.internalSubset ? `, internal subset with ${d.declarations} declaration(s)` : ''}` });
        for (const e of d.entities.slice(0, 50)) {
          const where = e.systemId !== undefined ? `external (SYSTEM '${e.systemId}')` : `internal (${e.valueLength ?? 0} chars)`;
          diagnostics.push({ code: e.systemId !== undefined ? 'XML_EXTERNAL_ENTITY' : 'XML_ENTITY_DECLARED', message: `${e.parameter ? 'parameter ' : ''}entity '${e.name}' declared, ${where}: never expanded` });
        }
        if (d.entities.length) declaredEntities = new Set(d.entities.map((e) => e.name));
        if (handler.doctype && stop(handler.doctype(d))) return res;
        break;
      }
      case 'end': {
        const name = buf.slice(pos + 2, end - 1).trim();
        const open = stack.pop();
        if (open === undefined) fail(pos, `end tag </${name}> without a start tag`);
        if (open !== name) fail(pos, `end tag </${name}> does not match <${open}>`);
        scopes.pop();
        pos = end;
        if (stack.length === 0) res.complete = true;
        if (handler.endElement && stop(handler.endElement(name, stack.length))) return res;
        break;
      }
      default:
        if (startTag(end)) return res;
    }
  }
  if (stack.length) throw new ModelwiseError('UNEXPECTED_EOF', `file ends inside <${stack[stack.length - 1]}> (${stack.length} element(s) open)`, { file: source.name, offset: source.size });
  if (!rootSeen) fail(pos, 'no root element');
  const refs = Object.entries(res.entityReferences);
  if (refs.length) {
    diagnostics.push({ code: 'XML_ENTITY_REFERENCE', message: `references to non-predefined entities left unexpanded: ${refs.slice(0, 10).map(([k, n]) => `&${k}; ×${n}`).join(', ')}` });
  }
  return res;
}
