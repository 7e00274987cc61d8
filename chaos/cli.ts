// The yadtq CLI straight from src/ (Node strips the types), so the chaos run needs no build:
//   node chaos/cli.ts worker w1 --tasks chaos/tasks.ts
import { main } from '../src/cli/main.ts';

process.exit(await main(process.argv.slice(2)));
