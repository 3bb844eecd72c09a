#!/usr/bin/env node
// Entry point of the `campaign` command: loads the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../client/cli.ts');
