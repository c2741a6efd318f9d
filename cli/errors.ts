/**
 * Exit codes are part of the command line's interface: scripts branch on them, so each failure
 * maps to exactly one. Documented in README "Command line".
 */
export const EXIT = {
  OK: 0,
  /** The API answered with an error (not found, conflict, bad input it refused, 5xx). */
  API: 1,
  /** The command line itself was wrong: unknown command, missing argument, bad flag value. */
  USAGE: 2,
  /** The deployment could not be reached, is not a Sessionlog, or refused the credentials. */
  REACH: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure with the exit code it means and a message written for the person at the terminal. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** The problem+json body or other detail, printed with --json. */
    readonly detail?: unknown,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usage = (message: string) => new CliError(EXIT.USAGE, message);
