/**
 * TorchScript archives (format id `torchscript`), written by `torch.jit.save` and, for the lite
 * (mobile) interpreter, `_save_for_lite_interpreter`. See ./README.md.
 * Variants: `torchscript-zip` (code/, constants.pkl, data.pkl; or the torch 1.0–1.2 model.json
 * layout) and `torchscript-lite` (adds bytecode.pkl; or the FlatBuffers `PTMF` mobile file).
 * Tried before `pytorch` in the registry: both read the same zip layout (../pytorch/archive.ts).
 */
import { startsWith, view } from '../../io/bytes.js';
import { detection } from '../detection.js';
import type { FormatModule } from '../types.js';
import type { Probe } from '../../identify/probe.js';
import type { Detection } from '../../types.js';
import { hasPrefix, isTorchScriptLayout, plural, topLabel, torchZipLayout } from '../pytorch/archive.js';

const NAME = 'TorchScript';

export const torchscript: FormatModule = {
  id: 'torchscript',
  name: NAME,
  extensions: ['.pt', '.pth', '.ptl', '.torchscript', '.jit'],
  load: async () => ({ ...(await import('./inspect.js')), readTensor: (await import('./tensors.js')).readTensor, scan: (await import('./scan.js')).scan }),
  async detect(probe: Probe) {
    const head = await probe.head();
    if (head.length < 8) return undefined;
    if (startsWith(head, 'PTMF', 4)) return detectFlatbuffer(head, probe.size);
    const l = await torchZipLayout(probe);
    if (!l || !isTorchScriptLayout(l)) return undefined;

    const top = topLabel(l);
    const lite = l.records.has('bytecode.pkl');
    const hasConstants = l.records.has('constants.pkl');
    const hasData = l.records.has('data.pkl');
    const modelJson = l.records.has('model.json');
    const ev: string[] = [];
    const parts = [
      `${plural(l.codeFiles, 'code file')} (${top}code/**.py${l.debugFiles > 0 ? `, ${l.debugFiles} .debug_pkl` : ''})`,
      hasConstants ? 'constants.pkl' : 'no constants.pkl',
      hasData ? 'data.pkl' : modelJson ? 'model.json (torch 1.0–1.2 layout)' : 'no data.pkl',
    ];
    if (lite) parts.push(`bytecode.pkl${l.bytecodeVersion !== undefined ? ` (bytecode version ${l.bytecodeVersion})` : ''}`);
    ev.push(`${lite ? 'TorchScript lite-interpreter' : 'TorchScript'} zip archive: ${parts.join(', ')}`);
    ev.push(l.version !== undefined ? `${l.versionRecord} record ${l.version}` : 'no version record');
    if (l.storages > 0) ev.push(`${plural(l.storages, 'storage')} in ${top}data/`);
    if (hasPrefix(l, 'extra/')) ev.push('extra files in extra/');
    if (l.outside > 0) ev.push(`${plural(l.outside, 'entry', 'entries')} outside ${top || 'the archive root'} (repacked archive?)`);

    // The pickles must look like pickles; the model.json layout has none but its JSON.
    const pickled = (hasData && l.dataPklProtocol !== undefined) || (hasConstants && l.constantsProtocol !== undefined);
    const badPickle = (hasData && l.dataPklProtocol === undefined) || (hasConstants && l.constantsProtocol === undefined);
    if (badPickle) ev.push('a pickle record does not start like a pickle');
    if (!l.top) ev.push('records at the archive root: torch writes them under one top folder and cannot load this layout');
    const confidence: Detection['confidence'] = badPickle || !l.top ? 'low' : (pickled || modelJson) && l.version !== undefined ? 'high' : 'medium';

    return detection('torchscript', NAME, lite ? 'torchscript-lite' : 'torchscript-zip', l.version ?? null, confidence, ev, {
      details: {
        archiveName: l.top,
        codeFiles: l.codeFiles,
        constantsPkl: hasConstants,
        bytecodePkl: lite,
        storageCount: l.storages,
        ...(l.version !== undefined ? { versionRecord: l.version } : {}),
        ...(l.bytecodeVersion !== undefined ? { bytecodeVersion: l.bytecodeVersion } : {}),
        ...(modelJson ? { layout: 'model.json' } : {}),
      },
    });
  },
};

/**
 * Lite-interpreter model saved as FlatBuffers (`_save_for_lite_interpreter(_use_flatbuffer=True)`),
 * schema torch/csrc/jit/serialization/mobile_bytecode.fbs: file_identifier "PTMF", root table
 * Module whose first field is `bytecode_version:uint`.
 */
function detectFlatbuffer(head: Uint8Array, size: number): Detection | undefined {
  const dv = view(head);
  const root = dv.getUint32(0, true);
  if (root < 8 || root + 4 > size) return undefined;
  let bytecodeVersion: number | undefined;
  if (root + 4 <= head.length) {
    const vt = root - dv.getInt32(root, true);
    if (vt >= 0 && vt + 6 <= head.length) {
      const vtSize = dv.getUint16(vt, true);
      const off = vtSize >= 6 ? dv.getUint16(vt + 4, true) : 0;
      if (off > 0 && root + off + 4 <= head.length) {
        const v = dv.getUint32(root + off, true);
        if (v > 0 && v < 1000) bytecodeVersion = v;
      }
    }
  }
  const ev = [`FlatBuffers file identifier "PTMF" (PyTorch mobile lite-interpreter module), root table at ${root}`];
  if (bytecodeVersion !== undefined) ev.push(`bytecode version ${bytecodeVersion}`);
  return detection('torchscript', NAME, 'torchscript-lite', bytecodeVersion ?? null, bytecodeVersion !== undefined ? 'high' : 'medium', ev, {
    details: { container: 'flatbuffer', ...(bytecodeVersion !== undefined ? { bytecodeVersion } : {}) },
  });
}
