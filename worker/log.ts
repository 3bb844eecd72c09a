// The worker's log. A workflow that refuses to run (a task, indicator or rectification started
// by anyone but its campaign: domain/task-start.ts) fails on purpose; the SDK would log that as
// "Workflow failed" with a stack trace, which reads like a fault in the product. Such a failure
// is logged instead as one line that says who was refused and why. The workflow announces its
// refusal just before it fails (a warning "<kind> workflow refused" with its run id); an error's
// own type does not survive the way from the workflow to this log, the run id does.
import { DefaultLogger, type LogLevel, type LogMetadata, type Logger } from '@temporalio/worker';

const REFUSAL = /^(task|indicator|rectification) workflow refused$/;

export class WorkerLogger implements Logger {
  private readonly refused = new Set<string>();
  private readonly inner: Logger;

  constructor(level: LogLevel, inner?: Logger) {
    this.inner = inner ?? new DefaultLogger(level);
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const runId = typeof meta?.runId === 'string' ? meta.runId : null;
    if (runId && REFUSAL.test(message)) {
      this.refused.add(runId);
      // A run that never fails after announcing its refusal is not kept for ever.
      if (this.refused.size > 1000) this.refused.delete(this.refused.values().next().value!);
    }
    if (runId && message === 'Workflow failed' && this.refused.delete(runId)) {
      const { error, ...rest } = meta!;
      this.inner.log('INFO', 'Workflow ended as refused (not a fault)', {
        ...rest,
        reason: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    this.inner.log(level, message, meta);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
