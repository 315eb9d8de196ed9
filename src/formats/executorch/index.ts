/**
 * ExecuTorch programs (`.pte`): a FlatBuffer with file_identifier "ET12" (schema/program.fbs,
 * https://github.com/pytorch/executorch/blob/main/schema/program.fbs), optionally followed at
 * offset 8 by the extended header "eh00" (schema/extended_header.h: u32 header length ≥ 24,
 * u64 program_size, u64 segment_base_offset), with data segments appended after the flatbuffer.
 * Bundled programs (`.bpte`, devtools/bundled_program/schema/bundled_program_schema.fbs) use the
 * identifier "BP08" and embed a whole program as a byte vector next to test cases.
 *
 * Only a few flatbuffer fields are walked here (root table, Program.version, execution plan names,
 * segment count), every offset checked against the file size.
 */
import { decodeUtf8, u64le, view } from '../../io/bytes.js';
import { detection } from '../detection.js';
import type { FormatModule } from '../types.js';
import type { Probe } from '../../identify/probe.js';
import type { Detection } from '../../types.js';

const NAME = 'ExecuTorch';
const MAX_LISTED = 8;

/** Minimal bounded flatbuffer reader over the probe (head when possible, small reads otherwise). */
class Fb {
  constructor(private readonly probe: Probe) {}

  private async get(at: number, n: number): Promise<Uint8Array | undefined> {
    if (at < 0 || at + n > this.probe.size) return undefined;
    const b = await this.probe.bytes(at, n);
    return b.length === n ? b : undefined;
  }
  async u32(at: number): Promise<number | undefined> {
    const b = await this.get(at, 4);
    return b ? view(b).getUint32(0, true) : undefined;
  }
  async i32(at: number): Promise<number | undefined> {
    const b = await this.get(at, 4);
    return b ? view(b).getInt32(0, true) : undefined;
  }
  /** u64 at `at` (0 when the field is absent, as flatbuffers defaults); undefined past 2^53. */
  async u64(at: number | undefined): Promise<number | undefined> {
    if (at === undefined) return 0;
    const b = await this.get(at, 8);
    return b ? u64le(view(b), 0) : undefined;
  }
  async u16(at: number): Promise<number | undefined> {
    const b = await this.get(at, 2);
    return b ? view(b).getUint16(0, true) : undefined;
  }

  /** A table at `pos`: returns a field locator, or undefined when its vtable is out of range. */
  async table(pos: number): Promise<((field: number) => Promise<number | undefined>) | undefined> {
    if (pos % 4 !== 0) return undefined;
    const soff = await this.i32(pos);
    if (soff === undefined) return undefined;
    const vt = pos - soff;
    const vtLen = await this.u16(vt);
    const tblLen = await this.u16(vt + 2);
    if (vtLen === undefined || tblLen === undefined || vtLen < 4 || vtLen % 2 !== 0 || tblLen < 4 || vt + vtLen > this.probe.size || pos + tblLen > this.probe.size) return undefined;
    return async (field: number) => {
      const slot = 4 + 2 * field;
      if (slot + 2 > vtLen) return undefined;
      const off = await this.u16(vt + slot);
      if (!off) return undefined;
      return off < tblLen ? pos + off : undefined;
    };
  }

  /** Follow a uoffset field to its target. */
  async deref(at: number | undefined): Promise<number | undefined> {
    if (at === undefined) return undefined;
    const off = await this.u32(at);
    if (off === undefined || off === 0) return undefined;
    const target = at + off;
    return target < this.probe.size ? target : undefined;
  }

  /** Vector length at `pos` when its elements (of `elem` bytes) fit in the file. */
  async vectorLength(pos: number | undefined, elem: number): Promise<number | undefined> {
    if (pos === undefined) return undefined;
    const n = await this.u32(pos);
    if (n === undefined || pos + 4 + n * elem > this.probe.size) return undefined;
    return n;
  }

  async string(pos: number | undefined): Promise<string | undefined> {
    const n = await this.vectorLength(pos, 1);
    if (pos === undefined || n === undefined || n > 1024) return undefined;
    const b = await this.get(pos + 4, n);
    return b ? decodeUtf8(b) : undefined;
  }
}

interface ProgramFacts {
  version?: number;
  plans?: number;
  methods: string[];
  segments?: number;
  /** End of the last data segment, relative to the segment base offset. */
  segmentsEnd?: number;
}

async function programFacts(fb: Fb, root: number): Promise<ProgramFacts | undefined> {
  const field = await fb.table(root);
  if (!field) return undefined;
  const versionAt = await field(0);
  const version = versionAt === undefined ? 0 : await fb.u32(versionAt);
  const plansVec = await fb.deref(await field(1));
  const plans = await fb.vectorLength(plansVec, 4);
  const methods: string[] = [];
  if (plansVec !== undefined && plans !== undefined) {
    for (let i = 0; i < Math.min(plans, MAX_LISTED); i++) {
      const plan = await fb.deref(plansVec + 4 + 4 * i);
      const pf = plan === undefined ? undefined : await fb.table(plan);
      const name = pf ? await fb.string(await fb.deref(await pf(0))) : undefined;
      if (name !== undefined) methods.push(name);
    }
  }
  const segVec = await fb.deref(await field(4));
  const segments = await fb.vectorLength(segVec, 4);
  // Segments are sorted by offset: the last one tells where the segment data ends.
  let segmentsEnd: number | undefined;
  if (segVec !== undefined && segments) {
    const last = await fb.deref(segVec + 4 + 4 * (segments - 1));
    const sf = last === undefined ? undefined : await fb.table(last);
    if (sf) {
      const off = await fb.u64(await sf(0));
      const len = await fb.u64(await sf(1));
      if (off !== undefined && len !== undefined) segmentsEnd = off + len;
    }
  }
  return {
    ...(version !== undefined ? { version } : {}),
    ...(plans !== undefined ? { plans } : {}),
    methods,
    ...(segments !== undefined ? { segments } : {}),
    ...(segmentsEnd !== undefined ? { segmentsEnd } : {}),
  };
}

function planText(p: ProgramFacts): string {
  if (p.plans === undefined) return 'execution plans unreadable';
  const names = p.methods.length ? `: ${p.methods.join(', ')}${p.plans > p.methods.length ? ', …' : ''}` : '';
  return `${p.plans} execution plan${p.plans === 1 ? '' : 's'}${names}`;
}

async function detectProgram(probe: Probe, head: Uint8Array, ident: string): Promise<Detection | undefined> {
  const dv = view(head);
  const size = probe.size;
  const root = dv.getUint32(0, true);
  const evidence: string[] = [];
  let confidence: 'high' | 'medium' | 'low' = 'high';
  const details: Record<string, string | number | boolean | null> = { fileIdentifier: ident };
  let headerEnd = 8;
  let headText = `ExecuTorch flatbuffer identifier ${ident}`;
  if (head.length >= 32 && decodeUtf8(head.subarray(8, 12)) === 'eh00') {
    const hlen = dv.getUint32(12, true);
    const programSize = u64le(dv, 16);
    const segmentBase = u64le(dv, 24);
    headerEnd = 8 + Math.max(hlen, 0);
    headText += `, extended header eh00 (program size ${programSize ?? '?'}, segment base ${segmentBase ?? '?'})`;
    details.extendedHeader = true;
    if (programSize !== undefined) details.programSize = programSize;
    if (segmentBase !== undefined) details.segmentBaseOffset = segmentBase;
    if (hlen < 24) {
      evidence.push(`extended header length ${hlen} < 24: corrupt header`);
      confidence = 'medium';
    }
    if (programSize === undefined || programSize > size || programSize < root) {
      evidence.push(`program size ${programSize ?? '≥2^53'} does not fit the ${size}-byte file (truncated?)`);
      confidence = 'low';
    }
    if (segmentBase !== undefined && segmentBase > 0 && (segmentBase > size || (programSize !== undefined && segmentBase < programSize))) {
      evidence.push(`segment base offset ${segmentBase} lies outside the ${size}-byte file (truncated?)`);
      confidence = confidence === 'high' ? 'medium' : confidence;
    }
  }
  if (root < headerEnd || root + 4 > size) {
    // A plausible root offset past the end of a .pte: a truncated file. Anything else is not ExecuTorch.
    if (!['.pte', '.bpte'].includes(probe.ext) || root % 4 !== 0 || root > 1 << 24) return undefined;
    return detection('executorch', NAME, ident.startsWith('BP') ? 'bundled-program' : 'pte', ident, 'low', [`${headText}, but root table offset ${root} is out of range (truncated or corrupt)`]);
  }
  const fb = new Fb(probe);
  if (ident.startsWith('BP')) {
    const field = await fb.table(root);
    if (!field) return undefined;
    const versionAt = await field(0);
    const version = versionAt === undefined ? 0 : await fb.u32(versionAt);
    const suitesVec = await fb.deref(await field(1));
    const suites = await fb.vectorLength(suitesVec, 4);
    const methods: string[] = [];
    if (suitesVec !== undefined && suites !== undefined) {
      for (let i = 0; i < Math.min(suites, MAX_LISTED); i++) {
        const s = await fb.deref(suitesVec + 4 + 4 * i);
        const sf = s === undefined ? undefined : await fb.table(s);
        const name = sf ? await fb.string(await fb.deref(await sf(0))) : undefined;
        if (name !== undefined) methods.push(name);
      }
    }
    const progVec = await fb.deref(await field(2));
    const progLen = await fb.vectorLength(progVec, 1);
    let inner = '';
    if (progVec !== undefined && progLen !== undefined && progLen >= 8) {
      const id = await probe.bytes(progVec + 8, 4);
      const idText = id.length === 4 ? decodeUtf8(id) : '';
      if (/^ET\d\d$/.test(idText)) {
        inner = `; embeds a ${progLen}-byte ExecuTorch program (${idText})`;
        details.programIdentifier = idText;
      } else inner = `; embeds a ${progLen}-byte program without an ET identifier`;
      details.programSize = progLen;
    } else {
      evidence.push('embedded program not found');
      confidence = 'medium';
    }
    if (version !== undefined) details.bundledVersion = version;
    if (suites !== undefined) details.testSuites = suites;
    const suiteText = suites === undefined ? '' : `; ${suites} method test suite${suites === 1 ? '' : 's'}${methods.length ? ` (${methods.join(', ')})` : ''}`;
    return detection('executorch', NAME, 'bundled-program', ident, confidence, [`ExecuTorch bundled program, flatbuffer identifier ${ident}, schema version ${version ?? '?'}${suiteText}${inner}`, ...evidence], { details });
  }
  const facts = await programFacts(fb, root);
  if (!facts) return undefined;
  const segmentBase = typeof details.segmentBaseOffset === 'number' ? details.segmentBaseOffset : undefined;
  if (segmentBase !== undefined && segmentBase > 0 && facts.segmentsEnd !== undefined && segmentBase + facts.segmentsEnd > size) {
    evidence.push(`segment data truncated: it ends at byte ${segmentBase + facts.segmentsEnd}, the file has ${size}`);
    if (confidence === 'high') confidence = 'medium';
  }
  if (facts.version !== undefined) details.programVersion = facts.version;
  if (facts.plans !== undefined) details.executionPlans = facts.plans;
  if (facts.methods.length) details.methods = facts.methods.join(',');
  if (facts.segments !== undefined) details.segments = facts.segments;
  return detection(
    'executorch',
    NAME,
    'pte',
    ident,
    confidence,
    [`${headText}; Program.version ${facts.version ?? '?'}, ${planText(facts)}${facts.segments ? `, ${facts.segments} data segment${facts.segments === 1 ? '' : 's'}` : ''}`, ...evidence],
    { details },
  );
}

export const executorch: FormatModule = {
  id: 'executorch',
  name: NAME,
  extensions: ['.pte', '.bpte'],
  load: async () => ({ ...(await import('./inspect.js')), readTensor: (await import('../read-range.js')).readRange }),
  async detect(probe: Probe) {
    try {
      const head = await probe.head();
      if (head.length < 16) return undefined;
      const ident = String.fromCharCode(head[4]!, head[5]!, head[6]!, head[7]!);
      if (!/^(ET|BP)\d\d$/.test(ident)) return undefined;
      return await detectProgram(probe, head, ident);
    } catch {
      return undefined;
    }
  },
};
