// Types of bin/cli-build.mjs (plain JavaScript, as it runs before TypeScript can be loaded).

/** The repository's root folder. */
export const REPO_ROOT: string;
/** The CLI's entry, relative to the root. */
export const ENTRY: string;
/** The compiled entry's file URL when dist/cli is current with the sources, else undefined. */
export function currentBuild(): string | undefined;
/** Compiles the CLI into dist/cli; returns the compiled entry's file URL. */
export function buildCli(): Promise<string>;
/** The current build, built first when it is missing or stale. */
export function ensureCliBuild(): Promise<string>;
