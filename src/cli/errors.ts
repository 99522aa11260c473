/** A command-line mistake (bad arguments, missing section): printed with the usage, exit 2. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** Input the command could not read (a missing file, not a bundle, bad JSON): one line, exit 2, no usage. */
export class InputError extends Error {
  override readonly name = 'InputError';
  readonly code: string;
  constructor(
    message: string,
    code = 'INPUT_INVALID',
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.code = code;
  }
}
