/** The `ks-isv` command line: `bin/ks-isv.js` (or `npm run cli --`). See docs/cli.md. */
import { run } from './run.ts';

process.exitCode = await run(process.argv.slice(2), process.env);
