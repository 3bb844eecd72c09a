// Every workflow the worker runs, one per file.
export { systemCheckWorkflow } from './system-check.ts';
export { taskWorkflow } from './task.ts';
