#!/usr/bin/env node
// The yadtq command: runs the compiled CLI (`npm run build` makes dist/).
import { main } from '../dist/cli/main.js';

process.exit(await main(process.argv.slice(2)));
