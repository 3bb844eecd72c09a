// Errors the CLI turns into exit codes: 1 refused/invalid, 2 usage, 3 service unreachable.
export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.refused,
    /** Extra data for `--json` error output. */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

export class ServiceUnreachable extends CliError {
  constructor(service: 'Temporal' | 'PostgreSQL', where: string, cause: string) {
    super(
      `${service} is not reachable at ${where} (${cause}). Start the local services with ` +
        '`npm run services:start`' +
        (service === 'Temporal' ? ' or set TEMPORAL_ADDRESS.' : ' or set DATABASE_URL.'),
      EXIT.unreachable,
    );
  }
}
