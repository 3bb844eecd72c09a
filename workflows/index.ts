// Every workflow the worker runs, one per file.
export { systemCheckWorkflow } from './system-check.ts';
export { taskWorkflow } from './task.ts';
export { indicatorWorkflow } from './indicator.ts';
export { campaignWorkflow } from './campaign.ts';
export { rectificationWorkflow } from './rectification.ts';
