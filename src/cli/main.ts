/**
 * The `modelwise` command: argument parsing and dispatch only; no format knowledge.
 * Data goes to stdout, logs and progress to stderr.
 * Exit codes: 0 success; 1 a finding or failure the command reports (e.g. an input is not a model);
 * 2 usage or I/O error.
 */
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { identifyCommand } from './identify.js';
import { inspectCommand } from './inspect.js';
import { scanCommand } from './scan.js';
import { convertCommand } from './convert.js';
import { adviseCommands } from './advise.js';

const require = createRequire(import.meta.url);

function version(): string {
  for (const p of ['../../package.json', '../package.json']) {
    try {
      return (require(p) as { version: string }).version;
    } catch {
      /* try the next layout (dist/cli or src/cli) */
    }
  }
  return '0.0.0';
}

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const defaultIO: CliIO = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  let exitCode = 0;
  const program = new Command('modelwise')
    .description('Identify, inspect, scan, convert and advise on AI model files — without executing them.')
    .version(version(), '-V, --version')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  $ modelwise identify model.gguf
  $ modelwise identify ./my-model-folder --json
  $ modelwise inspect model.safetensors --tensors
  $ modelwise scan -r ./downloads --fail-on suspicious
  $ modelwise convert ./Llama-3.2-1B --to gguf --quant Q4_K_M
  $ modelwise advise model.gguf --target cpu --ram 16GB
  $ modelwise formats
  $ modelwise identify hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf

Exit codes: 0 success, 1 a reported failure (e.g. not a model), 2 usage or I/O error.`,
    );

  const setExit = (c: number) => (exitCode = Math.max(exitCode, c));
  identifyCommand(program, io, setExit);
  inspectCommand(program, io, setExit);
  scanCommand(program, io, setExit, version());
  convertCommand(program, io, setExit);
  adviseCommands(program, io, setExit);

  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    io.stderr(`modelwise: ${(e as Error).message}\n`);
    return 2;
  }
  return exitCode;
}
