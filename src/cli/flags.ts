// A small typed `--flag value` parser for the commands that take many options (train, export).

import { UsageError } from './command';
import { CLI_OPTION_WORDS } from './optionWords';
import { CLI_DEVICE_WORDS } from './deviceWords';
import { CudaUnavailableError, DataError, DataValidationError, TrainingError } from '../engine';

export type FlagKind = 'string' | 'number' | 'boolean';
export type FlagSpec = Record<string, FlagKind>;
export type FlagValues<S extends FlagSpec> = { [K in keyof S]?: S[K] extends 'number' ? number : S[K] extends 'boolean' ? boolean : string };

export function parseFlags<S extends FlagSpec>(argv: readonly string[], spec: S): { flags: FlagValues<S>; positionals: string[] } {
  const flags: Record<string, string | number | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) { positionals.push(a); continue; }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown option --${name}`);
    if (kind === 'boolean') { flags[name] = true; continue; }
    const raw = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    if (kind === 'number') {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${raw}'`);
      flags[name] = n;
    } else flags[name] = raw;
  }
  return { flags: flags as FlagValues<S>, positionals };
}

/** Turns an error a user caused into one line (no stack), or rethrows a bug. A CUDA that cannot work is always the user's. */
export function userMessage(err: unknown, userErrors: readonly (abstract new (...args: never[]) => Error)[]): string | null {
  if (err instanceof CudaUnavailableError) return err.describe(CLI_DEVICE_WORDS);
  for (const E of userErrors) {
    if (!(err instanceof E)) continue;
    // Data and training errors carry their fix; the CLI words it with its flags.
    if (err instanceof DataError || err instanceof DataValidationError || err instanceof TrainingError) return err.describe(CLI_OPTION_WORDS);
    return err.message;
  }
  return null;
}

/** The value of an option that takes one of a few words (default when not given), or a usage error. */
export function choice<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], dflt: T): T {
  const v = (value ?? dflt) as T;
  if (!allowed.includes(v)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}`);
  return v;
}
