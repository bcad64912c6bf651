/** `keys create`: the only command that prints a key (the new one, once). */
import { everyOf, type Role } from '../../web/src/api/shapes.ts';
import { ok } from './api-client.ts';
import { type Command, oneOf, stringOption } from './command.ts';
import { UsageError } from './errors.ts';

const ROLES = everyOf<Role>()(['viewer', 'operator', 'admin', 'runtime']);

const create: Command = {
  group: 'keys',
  name: 'create',
  summary: 'create an API key (needs an admin key); prints it once',
  usage: '--role viewer|operator|admin|runtime [--name <name>]',
  help: ['--role <role>   viewer, operator or admin; runtime: for the business back end (/runtime/v1 only)', '--name <name>   what the key is for (default: "<role> key")', 'stdout has only the key (or the JSON answer with --json): KEY=$(ks-isv keys create --role viewer)'],
  options: { role: { type: 'string' }, name: { type: 'string' } },
  async run({ values, api, out }) {
    const role = oneOf(values, 'role', ROLES);
    if (!role) throw new UsageError('--role viewer|operator|admin|runtime is required');
    const name = stringOption(values, 'name') ?? `${role} key`;
    const created = await ok(api.rest.POST('/api/v1/keys', { body: { name, role } }));
    if (out.json) return out.data(created);
    out.line(created.key);
    out.note(`(key ${created.id}, role ${created.role}, "${created.name}": shown once, keep it now)`);
  },
};

export const keyCommands: Command[] = [create];
