// The error of a bad configuration, apart from the schema (worker/config.ts) so that the CLI can
// recognise it without loading zod on every start.
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration in the environment:\n  ${problems.join('\n  ')}`);
  }
}
