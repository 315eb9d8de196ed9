/** `modelwise advise` and `modelwise formats` */
import type { Command } from 'commander';
import { advise, TARGETS, type Target, type QualityDemand } from '../advise/advise.js';
import { plannedModel, parseParams } from '../advise/model.js';
import { deviceById, DEVICES } from '../advise/devices.js';
import { formatTable } from '../advise/capabilities.js';
import { adviseModelAt } from '../node/advise.js';
import { renderAdvice, renderFormats } from '../render/advise.js';
import { asModelwiseError, ModelwiseError } from '../errors.js';
import type { CliIO } from './main.js';
import { positiveInt } from './options.js';
import { toJson } from './json.js';

export function parseBytes(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$/i.exec(v.trim());
  if (!m) throw new ModelwiseError('USAGE', `invalid size ${v}`, { expected: 'e.g. 16GB, 24GiB, 512MB' });
  const unit = (m[2] ?? 'gb').toLowerCase();
  const pow = { b: 0, k: 1, m: 2, g: 3, t: 4 }[unit[0] as 'b'] ?? 3;
  return Math.round(Number(m[1]) * 1024 ** pow);
}

export function adviseCommands(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('advise')
    .description('which format, quantization and runtime fit a target, and will it fit in memory?')
    .argument('[model]', 'model file or folder (omit with --params for planning before a download)')
    .option('--target <target>', `one of ${TARGETS.join(', ')}`)
    .option('--device <id>', `a device preset (${DEVICES.map((d) => d.id).join(', ')})`)
    .option('--ram <size>', 'system RAM available (e.g. 16GB)')
    .option('--vram <size>', 'GPU memory available (e.g. 24GB)')
    .option('--context <n>', 'context length to plan for', positiveInt)
    .option('--batch <n>', 'micro-batch size (tokens evaluated at once)', positiveInt)
    .option('--train', 'the model will be trained or fine-tuned')
    .option('--quality <level>', 'acceptable quality cost: near-lossless | small | noticeable', 'small')
    .option('--params <n>', 'parameter count when no model is given (e.g. 8B)')
    .option('--arch <arch>', 'architecture preset with --params (llama, qwen2, mistral, gemma3)')
    .option('--json', 'print JSON {model, target, options[…]}')
    .addHelpText('after', `
Examples:
  $ modelwise advise model.safetensors --target cpu --ram 16GB
  $ modelwise advise ./Llama-3.1-8B --device rtx-4090 --context 32768
  $ modelwise advise --params 8B --arch llama --target browser

Exit codes: 0 advice printed, 1 no option fits, 2 usage or I/O error.`)
    .action(async (path: string | undefined, o: { target?: string; device?: string; ram?: string; vram?: string; context?: number; batch?: number; train?: boolean; quality: string; params?: string; arch?: string; json?: boolean }) => {
      try {
        const device = o.device ? deviceById(o.device) : undefined;
        if (o.device && !device) throw new ModelwiseError('USAGE', `unknown device ${o.device}`, { expected: DEVICES.map((d) => d.id).join(', ') });
        const target = (o.target ?? device?.target) as Target | undefined;
        if (!target) throw new ModelwiseError('USAGE', 'give --target or --device');
        if (!['near-lossless', 'small', 'noticeable'].includes(o.quality)) throw new ModelwiseError('USAGE', `--quality must be near-lossless, small or noticeable`);
        let model;
        if (path) model = (await adviseModelAt(path)).model;
        else if (o.params) model = plannedModel(parseParams(o.params), o.arch);
        else throw new ModelwiseError('USAGE', 'give a model path or --params');
        const a = await advise(model, {
          target,
          ram: o.ram ? parseBytes(o.ram) : device?.ram,
          vram: o.vram ? parseBytes(o.vram) : device?.vram,
          context: o.context,
          batch: o.batch,
          train: o.train,
          quality: o.quality as QualityDemand,
          device,
        });
        io.stdout((o.json ? toJson(a) : renderAdvice(a)) + '\n');
        if (a.options.length === 0 || a.options[0]!.fits === false) setExit(1);
      } catch (e) {
        const err = asModelwiseError(e, path);
        io.stderr(`modelwise: ${err.message}\n`);
        setExit(err.code === 'USAGE' || err.code === 'NOT_FOUND' || err.code === 'IO' ? 2 : 1);
      }
    });

  program
    .command('formats')
    .description('the capability table of every format modelwise knows (with sources)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  $ modelwise formats\n  $ modelwise formats --json | jq \'.[] | select(.codeExecutionRisk.level == "high") | .id\'')
    .action(async (o: { json?: boolean }) => {
      const rows = await formatTable();
      io.stdout((o.json ? toJson(rows) : renderFormats(rows)) + '\n');
    });
}
