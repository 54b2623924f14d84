#!/usr/bin/env node
// The `nlb-nodeport-sync` command (package.json "bin"): runs bin/cli.ts through tsx, as the project runs
// all its TypeScript, in this same process.
require('tsx/cjs/api').register();
require('./cli.ts');
