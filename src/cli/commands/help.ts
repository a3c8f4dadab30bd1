import { UsageError, type CliCommand } from '../command';

/** The overview printed by `ftlab`, `ftlab --help` and `ftlab help`. */
export function overview(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'ftlab: fine-tune transformer language models with ONNX Runtime, from the command line.',
    '',
    'Usage: ftlab <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'ftlab help <command>' for a command's options.",
  ].join('\n');
}

export const help: CliCommand = {
  name: 'help',
  summary: 'Show the commands, or one command\'s usage',
  usage: 'Usage: ftlab help [command]',
  run(argv, { commands }) {
    if (argv.length > 1) throw new UsageError('expected at most one command name');
    const [name] = argv;
    if (name === undefined) {
      console.log(overview(commands));
      return 0;
    }
    const command = commands.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command '${name}'; commands: ${commands.map((c) => c.name).join(', ')}`);
    console.log(`ftlab ${command.name}: ${command.summary}\n\n${command.usage}`);
    return 0;
  },
};
