// `ftlab`: the command line over the engine. bin/ftlab.js calls main(); so does `node dist/cli.js`.
import { UsageError } from './command';
import { CLI_DEVICE_WORDS } from './deviceWords';
import { CudaUnavailableError } from '../engine';
import { commands } from './commands/index';
import { overview } from './commands/help';

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(overview(commands));
    return 0;
  }
  if (name === '--version' || name === '-V') return main(['version']);
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`ftlab: unknown command '${name}'. Commands: ${commands.map((c) => c.name).join(', ')}.`);
    console.error("Run 'ftlab --help' for what each does.");
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) return main(['help', command.name]);
  try {
    return await command.run(rest, { commands });
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`ftlab ${command.name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    if (error instanceof CudaUnavailableError) {
      console.error(`ftlab ${command.name}: ${error.describe(CLI_DEVICE_WORDS)}`);
      return 1;
    }
    console.error(`ftlab ${command.name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
