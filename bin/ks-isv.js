#!/usr/bin/env node
// The ks-isv CLI: TypeScript sources run through tsx (a runtime dependency).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
