// The one error type of the checkpoint layer: a problem with a file the user gave us (weights, config,
// cache), worded for that user, naming the file and saying what to do.

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  /** The file or folder the problem is in, when there is one. */
  readonly file: string | undefined;

  constructor(message: string, file?: string) {
    super(message);
    this.file = file;
  }
}
