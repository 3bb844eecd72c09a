// The product's workflows plus test-only parents, bundled together for workflow tests.
export * from '../../workflows/index.ts';
export { taskParentWorkflow } from './task-parent.ts';
export { taskStarterWorkflow } from './task-starter.ts';
