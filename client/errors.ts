// Errors the CLI turns into exit codes: 1 refused/invalid, 2 usage, 3 service unreachable.
export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.refused,
    /** Extra data for `--json` error output. */
    readonly details?: unknown,
    /** The message in both languages, when it has both (a refusal from a workflow). */
    readonly texts?: { zh: string; en: string },
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

export interface Failure {
  /** One line for --json and for people. */
  message: string;
  /** What people read on stderr: the message, with the stack for an unexpected error. */
  forPeople: string;
  exitCode: number;
  details: unknown;
  /** The command printed its own JSON document before failing. */
  printed: boolean;
}

/**
 * Any error as a refusal: a CliError as it says, a configuration error as invalid input, and
 * anything else (a bug) as "unexpected error", still exit 1 and still a JSON document.
 */
export function describeFailure(
  e: unknown,
  isConfigError = false,
  lang: 'zh' | 'en' = 'zh',
): Failure {
  if (e instanceof CliError) {
    const details = e.details as { printed?: boolean } | undefined;
    const message = e.texts ? e.texts[lang] : e.message;
    return {
      message,
      forPeople: message,
      exitCode: e.exitCode,
      details: e.details ?? null,
      printed: details?.printed === true,
    };
  }
  const message = e instanceof Error ? e.message : String(e);
  if (isConfigError)
    return { message, forPeople: message, exitCode: EXIT.refused, details: null, printed: false };
  return {
    message: `unexpected error: ${message}`,
    forPeople: `unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
    exitCode: EXIT.refused,
    details: null,
    printed: false,
  };
}
