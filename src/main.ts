/**
 * `npm start`: runs what ks-isv has so far. Today that is the Kuaishou client library; the sandbox, the
 * server and the console join here as they land (see README.md). It prints the contract it speaks and
 * exits cleanly, so `npm start` never fails on a fresh checkout.
 */
import { ENDPOINTS, ERROR_CODES } from './kuaishou/index.ts';

const rows = Object.entries(ENDPOINTS).map(([operation, e]) => `  ${e.row.padEnd(4)} ${e.method.padEnd(5)} ${e.path.padEnd(52)} ${operation} (${e.source})`);
console.log('ks-isv — Kuaishou mini-program service provider platform');
console.log('The Kuaishou Open Platform client (src/kuaishou) speaks these endpoints:');
console.log(rows.join('\n'));
console.log(`  and knows ${Object.keys(ERROR_CODES).length} platform error codes.`);
console.log('The sandbox, server and console arrive with issues #3, #4 and #6; run `npm test` to exercise the client.');
