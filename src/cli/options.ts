/** Option-value parsers shared by the commands: a bad number is a usage error (exit 2), never a NaN downstream. */
import { InvalidArgumentError } from 'commander';

/** A whole number ≥ 1 ("4096", "512"); anything else is rejected by commander as a usage error. */
export function positiveInt(v: string): number {
  const n = /^\s*\d+\s*$/.test(v) ? Number.parseInt(v, 10) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1.');
  return n;
}

/** A whole number ≥ 0 (--max-tensors 0 keeps the count without items). */
export function nonNegativeInt(v: string): number {
  const n = /^\s*\d+\s*$/.test(v) ? Number.parseInt(v, 10) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number ≥ 0.');
  return n;
}
