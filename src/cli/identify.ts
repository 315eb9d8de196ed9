/** `modelwise identify <path...>` */
import type { Command } from 'commander';
import { identify } from '../node/index.js';
import { renderIdentification } from '../render/identify.js';
import type { Identification } from '../types.js';
import type { CliIO } from './main.js';
import { toJson } from './json.js';

export function identifyCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('identify')
    .description('say which format, variant and version each file or folder is, and on what evidence (by content, never by extension alone)')
    .argument('<paths...>', 'model files, folders, http(s):// URLs or hf://owner/repo[@revision]/path')
    .option('--json', 'print one JSON document (an object for one input, an array for several)')
    .addHelpText(
      'after',
      `
Examples:
  $ modelwise identify model.safetensors
  $ modelwise identify saved_model_dir/ tfjs_model/ --json
  $ modelwise identify https://example.com/models/model.onnx
  $ modelwise identify hf://TheBloke/Llama-2-7B-GGUF/llama-2-7b.Q4_K_M.gguf

Remote files are read with HTTP range requests: only the header bytes are fetched.
Set HF_TOKEN for gated Hugging Face repositories, HF_ENDPOINT for a mirror.
Exit codes: 0 every input is a model, 1 some input is not a model, 2 an input could not be read.`,
    )
    .action(async (paths: string[], opts: { json?: boolean }) => {
      const results: Identification[] = [];
      for (const p of paths) results.push(await identify(p));
      if (opts.json) io.stdout(toJson(results.length === 1 ? results[0] : results) + '\n');
      else io.stdout(results.map((r) => renderIdentification(r)).join('\n') + '\n');
      for (const r of results) {
        if (r.error) {
          if (!opts.json) io.stderr(`modelwise: ${r.error.message}\n`);
          setExit(2);
        } else if (!r.format) setExit(1);
      }
    });
}
