/** The output folder already holds a run that would be replaced. */
export class RunExistsError extends Error {
  override readonly name = 'RunExistsError';
}
