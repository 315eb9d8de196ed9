/** `modelwise convert <input> --to safetensors|gguf` */
import type { Command } from 'commander';
import { convertPath, type ConvertResult } from '../node/convert.js';
import { asModelwiseError } from '../errors.js';
import { humanBytes } from '../io/bytes.js';
import type { CliIO } from './main.js';
import { toJson } from './json.js';
import { positiveInt } from './options.js';
import { Progress } from './progress.js';

function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$/i.exec(v.trim());
  if (!m) throw new Error(`invalid size ${v}`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const base = unit.includes('i') ? 1024 : 1000;
  const pow = { b: 0, k: 1, m: 2, g: 3, t: 4 }[unit[0] as 'b' | 'k' | 'm' | 'g' | 't'] ?? 0;
  return Math.round(Number(m[1]) * base ** pow);
}

function render(r: ConvertResult): string {
  const out: string[] = [];
  const p = r.plan;
  out.push(`${r.written ? 'wrote' : 'plan for'} ${p.to}: ${p.tensors.length} tensor${p.tensors.length === 1 ? '' : 's'}, ${humanBytes(p.outputBytes)} in ${p.files.length} file(s)`);
  for (const f of p.files) out.push(`  ${f.name}${f.size ? ` (${humanBytes(f.size)})` : ''}`);
  const mix = new Map<string, number>();
  for (const t of p.tensors) mix.set(`${t.from} → ${t.to}`, (mix.get(`${t.from} → ${t.to}`) ?? 0) + 1);
  out.push(`  types: ${mix.size ? [...mix].map(([k, n]) => `${k} ×${n}`).join(', ') : 'none (the model holds no tensors)'}`);
  for (const d of p.dropped.slice(0, 10)) out.push(`  tied: ${d.name} is the same storage as ${d.tiedTo}; written once`);
  if (p.dropped.length > 10) out.push(`  tied: … ${p.dropped.length - 10} more (--json for all)`);
  for (const s of p.skipped) out.push(`  skipped: ${s.name} (${s.reason})`);
  if (!r.written && p.tensors.length) {
    out.push('  tensors:');
    for (const t of p.tensors.slice(0, 200)) out.push(`    ${t.name}  ${t.from} → ${t.to}  [${t.shape.join(', ')}]  ${humanBytes(t.bytes)}`);
    if (p.tensors.length > 200) out.push(`    … ${p.tensors.length - 200} more`);
  }
  if (r.verify) {
    const worst = [...r.verify].sort((a, b) => b.maxAbs - a.maxAbs);
    out.push(`  verify: ${r.verify.length} tensor${r.verify.length === 1 ? '' : 's'} re-read; max |error| ${worst[0]?.maxAbs ?? 0}, worst RMS ${Math.max(0, ...r.verify.map((v) => v.rms)).toExponential(3)}`);
    for (const v of worst.slice(0, 10)) out.push(`    ${v.name}: max-abs ${v.maxAbs.toExponential(3)}, rms ${v.rms.toExponential(3)}`);
  }
  return out.join('\n');
}

export function convertCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('convert')
    .description('convert weights to safetensors or GGUF, streaming tensor by tensor, without executing anything')
    .argument('<input>', 'model file or folder (a Hugging Face folder for llama-family → GGUF)')
    .requiredOption('--to <format>', 'safetensors | gguf')
    .option('-o, --output <path>', 'output file (shards and the index go next to it); default: next to the input')
    .option('--dtype <dtype>', 'float dtype of the output: f32 | f16 | bf16')
    .option('--quant <type>', 'GGUF: F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K, or a file type Q4_K_M Q4_K_S Q5_K_M Q5_K_S Q3_K_M Q3_K_S Q3_K_L')
    .option('--max-shard-size <size>', 'safetensors: shard above this size (e.g. 5GB, 500MiB)', '5GB')
    .option('--verify', 're-read the output and report per-tensor max-abs and RMS error against the source')
    .option('--dry-run', 'print the plan (tensors, types, output size) without writing')
    .option('--threads <n>', 'quantization threads (default: all cores)', positiveInt)
    .option('--json', 'print the result as JSON')
    .option('-q, --quiet', 'no progress bar')
    .addHelpText(
      'after',
      `
Examples:
  $ modelwise convert pytorch_model.bin --to safetensors
  $ modelwise convert ./Qwen2.5-0.5B-Instruct --to gguf --quant Q4_K_M -o qwen-q4_k_m.gguf
  $ modelwise convert model.gguf --to safetensors --dtype f16 --verify
  $ modelwise convert model.onnx --to safetensors --dry-run

Outputs are written to a temporary file and renamed; inputs are never touched.
Exit codes: 0 converted, 1 the model cannot be converted (unsupported, malformed), 2 usage or I/O error.`,
    )
    .action(async (input: string, opts: { to: string; output?: string; dtype?: string; quant?: string; maxShardSize: string; verify?: boolean; dryRun?: boolean; json?: boolean; quiet?: boolean; threads?: number }) => {
      const progress = new Progress('converting', opts.quiet || opts.json);
      try {
        if (opts.to !== 'safetensors' && opts.to !== 'gguf') throw new Error(`--to must be safetensors or gguf, not ${opts.to}`);
        if (opts.dtype && !['f32', 'f16', 'bf16'].includes(opts.dtype)) throw new Error(`--dtype must be f32, f16 or bf16`);
        const r = await convertPath(input, {
          to: opts.to,
          output: opts.output,
          dtype: opts.dtype as 'f32' | 'f16' | 'bf16' | undefined,
          quant: opts.quant,
          maxShardSize: parseSize(opts.maxShardSize),
          dryRun: opts.dryRun,
          verify: opts.verify,
          threads: opts.threads,
          onProgress: (p) => progress.update(p.bytesDone, p.bytesTotal, `${p.index}/${p.count} tensors`),
        });
        progress.done();
        io.stdout((opts.json ? toJson(r) : render(r)) + '\n');
      } catch (e) {
        progress.done();
        const err = e instanceof Error && !('code' in e) ? { code: 'USAGE', message: e.message } : asModelwiseError(e, input);
        if (opts.json) io.stdout(toJson({ input, error: { code: err.code, message: err.message } }) + '\n');
        io.stderr(`modelwise: ${err.message}\n`);
        setExit(['USAGE', 'IO', 'NOT_FOUND'].includes(err.code) ? 2 : 1);
      }
    });
}
