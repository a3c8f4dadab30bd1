// What every `ftlab` subcommand is: one file under commands/, one line in commands/index.ts.

export interface CliCommand {
  readonly name: string;
  /** One line, shown by `ftlab --help`. */
  readonly summary: string;
  /** The full usage text, shown by `ftlab help <name>` and after a usage error. */
  readonly usage: string;
  /** Returns the process exit code. Throws UsageError for bad arguments (exit 2). */
  run(argv: readonly string[], context: CliContext): Promise<number> | number;
}

export interface CliContext {
  /** The command table, for commands that describe the others (help). */
  readonly commands: readonly CliCommand[];
}

/** Bad arguments: main prints the message and the command's usage, and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
