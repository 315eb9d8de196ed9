/** `modelwise inspect <path>` */
import type { Command } from 'commander';
import { inspect } from '../node/index.js';
import { renderInspect } from '../render/inspect.js';
import { asModelwiseError } from '../errors.js';
import type { CliIO } from './main.js';
import { toJson } from './json.js';
import { positiveInt, nonNegativeInt } from './options.js';
import { adviseModelAt } from '../node/advise.js';
import { estimateMemory } from '../advise/memory.js';
import { renderMemory } from '../render/advise.js';

export function inspectCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('inspect')
    .description('report what is inside a model — tensors, dtypes, quantization, parameters, graph inputs/outputs, operators, metadata — from its headers only')
    .argument('<path>', 'model file or folder, http(s):// URL or hf://owner/repo[@revision]/path')
    .option('--json', 'print the report as JSON (stable schema, see README)')
    .option('--tensors', 'add the tensor table (name, dtype, shape, size, offset)')
    .option('--metadata', 'add the full metadata')
    .option('--max-tensors <n>', 'keep at most n tensor items in the report (the count stays exact)', nonNegativeInt)
    .option('--memory', 'add the memory estimate to run it: weights + KV cache + compute + overhead')
    .option('--context <n>', 'context length for --memory (default: the model\'s, at most 4096)', positiveInt)
    .option('--batch <n>', 'micro-batch size for --memory (default 512)', positiveInt)
    .addHelpText(
      'after',
      `
Examples:
  $ modelwise inspect model.gguf
  $ modelwise inspect model.safetensors --tensors
  $ modelwise inspect ./Llama-3-8B/ --json > report.json
  $ modelwise inspect model.gguf --memory --context 32768
  $ modelwise inspect hf://Qwen/Qwen2.5-0.5B-Instruct/model.safetensors

Only headers are read: a 70 GB checkpoint reads kilobytes to a few megabytes.
Exit codes: 0 report printed, 1 not a model or not inspectable, 2 usage or I/O error.`,
    )
    .action(async (path: string, opts: { json?: boolean; tensors?: boolean; metadata?: boolean; maxTensors?: number; memory?: boolean; context?: number; batch?: number }) => {
      try {
        const report = await inspect(path, { options: { ...(opts.maxTensors !== undefined ? { maxTensors: opts.maxTensors } : {}) } });
        let memory;
        let context = 0;
        if (opts.memory) {
          const { model } = await adviseModelAt(path);
          context = opts.context ?? Math.min(model.shape.contextLength ?? 4096, 4096);
          memory = estimateMemory(model.shape, { context, batch: opts.batch });
        }
        if (opts.json) io.stdout(toJson(memory ? { ...report, memory: { context, ...memory } } : report) + '\n');
        else io.stdout(renderInspect(report, { tensors: opts.tensors, metadata: opts.metadata }) + (memory ? '\n' + renderMemory(report.path, context, memory) : '') + '\n');
      } catch (e) {
        const err = asModelwiseError(e, path);
        if (opts.json) io.stdout(toJson({ path, error: err.toJSON() }) + '\n');
        io.stderr(`modelwise: ${err.message}\n`);
        setExit(['UNKNOWN_FORMAT', 'UNSUPPORTED', 'MALFORMED', 'UNEXPECTED_EOF', 'LIMIT_EXCEEDED'].includes(err.code) ? 1 : 2);
      }
    });
}
