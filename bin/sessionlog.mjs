#!/usr/bin/env node
// The `sessionlog` bin: runs cli/main.ts through tsx (a runtime dependency), so the command line
// needs no build step, like the rest of the repo.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
