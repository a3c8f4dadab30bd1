// Runs `ftlab <argv>` in this process (the CLI's main) and captures the text it writes: console.log and
// console.error go through process.stdout/stderr.write, which are replaced for the call. Binary chunks
// are passed through: under `node --test` the runner reports to its parent on stdout as bytes.
import { main } from '../../src/cli/main';

type Write = typeof process.stdout.write;

function capturing(original: Write, into: string[], stream: NodeJS.WriteStream): Write {
  return ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk !== 'string') return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    into.push(chunk);
    return true;
  }) as Write;
}

export async function captureCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const stdout = process.stdout.write, stderr = process.stderr.write;
  process.stdout.write = capturing(stdout, out, process.stdout);
  process.stderr.write = capturing(stderr, err, process.stderr);
  try {
    return { code: await main(argv), out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
}
