// What the extension reads from the output of an `ftlab` command it ran in a child process. No vscode
// import: tested against the real CLI's output (test/extension/cliOutput.test.ts).

/** What `ftlab doctor` says `--device auto` picks: "the CPU: <why>" or the GPU, from its text output. */
export function autoDeviceLine(doctorOutput: string): string | undefined {
  return /^--device auto: (.+)$/m.exec(doctorOutput)?.[1]?.trim();
}

/** The last message line of a failed CLI command, without its "ftlab <command>: " prefix. */
export function lastMessage(lines: readonly string[], command: string): string | undefined {
  return lines.filter((l) => l.trim()).pop()?.replace(new RegExp(`^ftlab ${command}: `), '');
}
