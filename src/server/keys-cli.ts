/**
 * `npm run keys -- create --role operator [--name NAME]` / `npm run keys -- list` / `npm run keys -- revoke ID`:
 * manages API keys straight in the database (DATABASE_URL), for bootstrapping and recovery.
 */
import { parseArgs } from 'node:util';
import type { Role } from '../fleet/model.ts';
import { loadSecretKey, openStore } from '../store/index.ts';
import { newApiKey } from './api-keys.ts';

const ROLES: Role[] = ['viewer', 'operator', 'admin', 'runtime'];

function fail(message: string): never {
  process.stderr.write(`keys: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { role: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } },
  });
  const [command, id] = positionals;
  if (!command || !['create', 'list', 'revoke'].includes(command)) fail('usage: keys create --role viewer|operator|admin|runtime [--name NAME] | keys list | keys revoke ID');
  const secretKey = await loadSecretKey({ env: process.env.KS_ISV_SECRET_KEY, keyFile: process.env.KS_ISV_SECRET_KEY_FILE || './data/secret.key' });
  const store = await openStore({ url: process.env.DATABASE_URL || 'sqlite:./data/ks-isv.db', secretKey });
  try {
    if (command === 'create') {
      const role = values.role as Role | undefined;
      if (!role || !ROLES.includes(role)) fail('--role must be viewer, operator, admin or runtime');
      const { key, record } = newApiKey(values.name ?? `${role} key`, role);
      await store.apiKeys.insert(record);
      process.stdout.write(values.json ? `${JSON.stringify({ id: record.id, role, name: record.name, key })}\n` : `${key}\n(id ${record.id}, role ${role}; shown once)\n`);
    } else if (command === 'list') {
      for (const key of await store.apiKeys.list()) {
        process.stdout.write(`${key.id}\t${key.role}\t${key.revokedAt ? 'revoked' : 'active'}\t${key.name}\n`);
      }
    } else {
      if (!id) fail('revoke needs the key id');
      if (!(await store.apiKeys.revoke(id, Date.now()))) fail(`no key ${id}`);
      process.stdout.write(`revoked ${id}\n`);
    }
  } finally {
    await store.close();
  }
}

void main();
