// The command table: `ftlab --help` lists exactly these, in this order. Add a command as a new file
// under commands/ and one line here.
import type { CliCommand } from '../command';
import { help } from './help';
import { pull } from './pull';
import { version } from './version';

export const commands: readonly CliCommand[] = [
  help,
  version,
  pull,
];
