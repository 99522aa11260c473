/** A command-line mistake (bad arguments, missing section): printed with the usage, exit 2. */
export class CliError extends Error {
    name = 'CliError';
}
//# sourceMappingURL=errors.js.map