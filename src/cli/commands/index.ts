// The command table: `ftlab --help` lists exactly these, in this order. Add a command as a new file
// under commands/ and one line here.
import type { CliCommand } from '../command';
import { demo } from './demo';
import { estimate } from './estimate';
import { experiment } from './experiment';
import { help } from './help';
import { exportCommand } from './export';
import { generate } from './generate';
import { prepare } from './prepare';
import { pretrain } from './pretrain';
import { pull } from './pull';
import { train } from './train';
import { version } from './version';
import { doctor } from './doctor';
import { setupCudaCommand } from './setupCuda';

export const commands: readonly CliCommand[] = [
  help,
  version,
  doctor,
  setupCudaCommand,
  demo,
  experiment,
  pull,
  prepare,
  train,
  estimate,
  exportCommand,
  generate,
  pretrain,
];
