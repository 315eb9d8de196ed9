/**
 * TorchScript scan hook (PT-001): code files that reach files, processes or custom native operators,
 * lite-interpreter bytecode, and the plain-code near-miss (info listing only).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { scan, scanTorchScriptCode } from './scan.js';
import { buildZip } from '../../../test/helpers/zip-writer.js';
import { directScan, has } from '../../../test/helpers/scan-kit.js';

const PLAIN = `class TinyCNN(Module):
  __parameters__ = []
  training : bool
  def forward(self: __torch__.TinyCNN, x: Tensor) -> Tensor:
    _0 = getattr(self.layers, "0")
    if torch.gt(torch.dim(x), 4):
      ops.prim.RaiseException("Exception", "builtins.ValueError")
    else:
      pass
    return torch.relu((_0).forward(x, ))
`;
const archive = (code: string, extra: { name: string; data: string | Uint8Array }[] = []) =>
  buildZip([{ name: 'm/data.pkl', data: new Uint8Array([0x80, 2, 0x7d, 0x2e]) }, { name: 'm/code/__torch__.py', data: code }, { name: 'm/constants.pkl', data: new Uint8Array([0x80, 2, 0x29, 0x2e]) }, { name: 'm/version', data: '3\n' }, ...extra]).bytes;
const run = (bytes: Uint8Array) => directScan(scan, { 'm.pt': bytes }, 'm.pt', 'torchscript', 'torchscript-zip');

describe('TorchScript scan hook', () => {
  it('near-miss: plain model code (getattr on submodules, exception strings) is an info listing', async () => {
    const r = await run(archive(PLAIN));
    assert.equal(r.verdict, 'benign');
    assert.ok(has(r.all, 'PT-001', 'info'));
    assert.ok(!has(r.all, 'PT-001', 'medium'));
  });

  it('PT-001: file reads, torch.save, custom native operators and custom classes are medium', async () => {
    const attacks = [
      '    t = torch.from_file("/etc/passwd", False, 4096)\n',
      '    _1 = ops.aten.from_file("/etc/shadow")\n',
      '    torch.save(x, "/tmp/exfil.pt")\n',
      '    _2 = ops.my_evil_ns.run_shell(x)\n',
      '    _3 = torch.classes.evil.Backdoor()\n',
      '    os.system("id")\n',
    ];
    for (const a of attacks) {
      const r = await run(archive(PLAIN + a));
      assert.equal(r.verdict, 'suspicious', a);
      assert.ok(has(r.all, 'PT-001', 'medium'), a);
    }
    assert.equal(scanTorchScriptCode('    _0 = ops.torchvision.nms(b, s, 0.5)\n', 'x').namespaces.has('torchvision'), true);
    const tv = await run(archive(`${PLAIN}    _0 = ops.torchvision.nms(b, s, 0.5)\n`));
    assert.equal(tv.verdict, 'benign', 'torchvision ops need the library but are not suspicious');
  });

  it('lite interpreter bytecode: aten::from_file and custom namespaces in bytecode.pkl', async () => {
    const str = (s: string) => [0x58, s.length, 0, 0, 0, ...new TextEncoder().encode(s)];
    const bc = Uint8Array.from([0x80, 2, 0x28, ...str('aten::linear'), ...str('aten::from_file'), ...str('evil::launch'), 0x74, 0x2e]);
    const r = await run(archive(PLAIN, [{ name: 'm/bytecode.pkl', data: bc }]));
    assert.equal(r.verdict, 'suspicious');
    assert.ok(r.all.some((f) => f.rule === 'PT-001' && f.evidence.includes('from_file')));
    assert.ok(r.all.some((f) => f.rule === 'PT-001' && f.evidence.includes('"evil"')));
  });
});
