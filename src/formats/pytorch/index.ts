/**
 * PyTorch checkpoints written by `torch.save` (format id `pytorch`). See ./README.md.
 * Variants: `zip` (torch ≥ 1.6), `legacy-pickle` (torch < 1.6 or `_use_new_zipfile_serialization=False`),
 * `legacy-tar` (torch ≤ 0.1.x), `sharded-index` (Hugging Face `pytorch_model.bin.index.json`),
 * plus `pt2` (torch.export archives) and `torch-package` (torch.package) when seen.
 * TorchScript archives (code/, constants.pkl, bytecode.pkl) are left to ../torchscript.
 */
import { detection } from '../detection.js';
import type { FormatModule } from '../types.js';
import type { Probe } from '../../identify/probe.js';
import type { Detection, ModelFile } from '../../types.js';
import { hasPrefix, isTorchScriptLayout, plural, topLabel, torchZipLayout, type TorchZipLayout } from './archive.js';
import { findProtocolVersionPickle, peekLegacyTorch, pickleStart, TORCH_MAGIC_HEX } from './pickle-peek.js';
import { legacyTar } from './legacy.js';
import { indexFiles, shardSiblings, torchIndex } from './sharded.js';

const NAME = 'PyTorch checkpoint';

export const pytorch: FormatModule = {
  id: 'pytorch',
  name: NAME,
  extensions: ['.pt', '.pth', '.bin', '.ckpt', '.pkl', '.tar', '.pt2'],
  load: async () => ({ ...(await import('./inspect.js')), readTensor: (await import('./tensors.js')).readTensor }),
  async detect(probe: Probe) {
    const head = await probe.head();
    if (head.length < 2) return undefined;
    if (pickleStart(head)) {
      const d = detectLegacyPickle(head);
      if (d) return withShards(probe, d);
    }
    const idx = await detectIndex(probe);
    if (idx) return idx;
    if (head.length >= 512) {
      const d = await detectLegacyTar(probe);
      if (d) return withShards(probe, d);
    }
    const layout = await torchZipLayout(probe);
    if (layout && !isTorchScriptLayout(layout)) {
      const d = detectZip(layout);
      if (d) return withShards(probe, d);
    }
    return undefined;
  },
};

function detectLegacyPickle(head: Uint8Array): Detection | undefined {
  const l = peekLegacyTorch(head);
  if (!l) return detectDisguisedLegacy(head);
  const ev = [`legacy torch.save pickle stream: magic number 0x${TORCH_MAGIC_HEX} (pickle protocol ${l.protocol === 0 ? '0/1' : l.protocol})`];
  if (l.protocolVersion !== undefined) ev.push(`protocol_version ${l.protocolVersion}${l.protocolVersion === 1001 ? '' : ' (torch writes 1001)'}`);
  else ev.push('protocol_version record not found after the magic');
  if (l.littleEndian !== undefined) ev.push(`sys_info: ${l.littleEndian ? 'little' : 'big'}-endian`);
  return detection('pytorch', NAME, 'legacy-pickle', l.protocolVersion ?? null, 'high', ev, {
    details: {
      pickleProtocol: l.protocol,
      ...(l.protocolVersion !== undefined ? { protocolVersion: l.protocolVersion } : {}),
      ...(l.littleEndian !== undefined ? { endianness: l.littleEndian ? 'little' : 'big' } : {}),
    },
  });
}

/**
 * A pickle whose first object is not the literal magic but which is followed by torch's
 * protocol_version pickle: a legacy stream whose magic is computed (torch.load would run that
 * first pickle). Not written by torch; reported with low confidence so the scanner sees a torch file.
 */
function detectDisguisedLegacy(head: Uint8Array): Detection | undefined {
  if (!pickleStart(head)) return undefined;
  const at = findProtocolVersionPickle(head);
  if (at <= 0) return undefined;
  return detection('pytorch', NAME, 'legacy-pickle', 1001, 'low', [
    `a protocol_version 1001 pickle at offset ${at} follows a first pickle that does not hold the literal magic number 0x${TORCH_MAGIC_HEX}`,
    'not written by torch.save: torch.load would execute the first pickle to obtain the magic',
  ], { details: { protocolVersion: 1001, literalMagic: false } });
}

async function detectLegacyTar(probe: Probe): Promise<Detection | undefined> {
  const t = await legacyTar(probe);
  if (!t) return undefined;
  const ev = [`tar archive with torch legacy members ${t.members.map((m) => `"${m}"`).join(', ')} (torch ≤ 0.1 torch.save)`];
  if (t.picklePeek === true) ev.push('the "pickle" member starts with a pickle protocol header');
  if (t.protocolVersion !== undefined) ev.push(`sys_info protocol_version ${t.protocolVersion}`);
  const strong = t.torchMembers >= 2 && t.picklePeek !== false;
  return detection('pytorch', NAME, 'legacy-tar', t.protocolVersion ?? null, strong ? 'high' : 'medium', ev, {
    details: { members: t.members.length, ...(t.protocolVersion !== undefined ? { protocolVersion: t.protocolVersion } : {}) },
  });
}

async function detectIndex(probe: Probe): Promise<Detection | undefined> {
  const idx = torchIndex(await probe.json());
  if (!idx) return undefined;
  const { files, missing, unsafe } = await indexFiles(probe, idx);
  const names = idx.shards.slice(0, 3).join(', ') + (idx.shards.length > 3 ? ', …' : '');
  const ev = [`PyTorch shard index: weight_map of ${plural(idx.tensorCount, 'tensor')} in ${plural(idx.shards.length, 'shard')} (${names})`];
  if (idx.totalSize !== undefined) ev.push(`metadata.total_size ${idx.totalSize} bytes`);
  if (missing.length > 0) ev.push(`${plural(missing.length, 'shard')} missing next to the index: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}`);
  if (unsafe.length > 0) ev.push(`${plural(unsafe.length, 'shard path')} escaping the folder ignored: ${unsafe.slice(0, 2).join(', ')}`);
  return detection('pytorch', NAME, 'sharded-index', null, 'high', ev, {
    files,
    details: {
      tensorCount: idx.tensorCount,
      shardCount: idx.shards.length,
      ...(idx.totalSize !== undefined ? { totalSize: idx.totalSize } : {}),
      ...(files ? { missingShards: missing.length } : {}),
    },
  });
}

function detectZip(l: TorchZipLayout): Detection | undefined {
  const top = topLabel(l);
  const versionText = l.version !== undefined ? `${l.versionRecord === 'version' ? 'version' : l.versionRecord} record ${l.version}` : 'no version record';
  const details: Detection['details'] = {
    archiveName: l.top,
    storageCount: l.storages,
    ...(l.version !== undefined ? { versionRecord: l.version } : {}),
    ...(l.byteorder ? { endianness: l.byteorder } : {}),
  };
  const outside = l.outside > 0 ? [`${plural(l.outside, 'entry', 'entries')} outside ${top || 'the archive root'} (repacked archive?)`] : [];

  if (l.records.has('data.pkl')) {
    const p = l.dataPklProtocol;
    const ev = [`zip archive with ${top}data.pkl, ${versionText}, ${plural(l.storages, 'storage')}`];
    if (p === undefined) ev.push('data.pkl does not start like a pickle');
    else ev.push(`data.pkl starts with pickle protocol ${p === 0 ? '0/1' : p}`);
    if (l.byteorder) ev.push(`byteorder ${l.byteorder}`);
    if (l.records.has('.format_version') || l.records.has('.storage_alignment')) ev.push('torch ≥ 2.x records .format_version/.storage_alignment');
    ev.push(...outside);
    if (!l.top) ev.push('records at the archive root: torch writes them under one top folder and cannot load this layout');
    const confidence = p === undefined || !l.top ? 'low' : l.version !== undefined && l.outside === 0 ? 'high' : 'medium';
    if (p !== undefined) details.pickleProtocol = p;
    return detection('pytorch', NAME, 'zip', l.version ?? null, confidence, ev, { details });
  }

  // torch.export (`torch.export.save`, `.pt2`): archive_format "pt2", models/*.json, data/weights.
  if (l.archiveFormat === 'pt2' || l.records.has('serialized_exported_program.json')) {
    const ev = [
      l.archiveFormat === 'pt2'
        ? `zip archive with ${top}archive_format "pt2"${l.archiveVersion ? `, archive_version ${l.archiveVersion}` : ''} (torch.export)`
        : `zip archive with ${top}serialized_exported_program.json (torch.export, torch 2.1–2.5)`,
    ];
    if (hasPrefix(l, 'data/aotinductor/')) ev.push('holds AOTInductor compiled code (data/aotinductor/)');
    ev.push(...outside);
    return detection('pytorch', 'PyTorch ExportedProgram', 'pt2', l.archiveVersion ?? l.version ?? null, 'medium', ev, { details });
  }

  // torch.package: `.data/extern_modules`, `.data/version`, pickles and Python sources at user paths.
  if (l.records.has('.data/extern_modules')) {
    const py = [...l.records.keys()].filter((k) => k.endsWith('.py')).length;
    const pkl = [...l.records.keys()].filter((k) => k.endsWith('.pkl')).length;
    const ev = [`zip archive with ${top}.data/extern_modules (torch.package), ${plural(pkl, 'pickle')}, ${plural(py, 'Python source')}`, ...outside];
    return detection('pytorch', 'PyTorch package', 'torch-package', l.version ?? null, 'medium', ev, { details });
  }
  return undefined;
}

/** Add the sibling shards of `name-00001-of-00002.bin` style files. */
async function withShards(probe: Probe, d: Detection): Promise<Detection> {
  const files: ModelFile[] | undefined = await shardSiblings(probe);
  if (!files) return d;
  return { ...d, evidence: [...d.evidence, `shard of a ${files.length}-file checkpoint (${files[0]!.path} …)`], files };
}
