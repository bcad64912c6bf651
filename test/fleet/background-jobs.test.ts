import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BackgroundJobs } from '../../src/fleet/background-jobs.ts';
import { TemplateService } from '../../src/fleet/template-service.ts';
import { NoTicketError } from '../../src/kuaishou/index.ts';
import { silentLogger } from '../../src/kuaishou/logger.ts';

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('background jobs: template sync', () => {
  test('syncs on start; a failed sync is tried again when a ticket arrives, a successful one is not', async () => {
    const outcomes = [false, true];
    let calls = 0;
    const jobs = new BackgroundJobs({
      store: {} as never,
      platform: {} as never,
      logger: silentLogger,
      syncTemplates: () => Promise.resolve(outcomes[calls++] ?? true),
    });
    jobs.ticketArrived();
    await settle();
    assert.equal(calls, 0, 'not started: nothing runs');
    jobs.start();
    await settle();
    assert.equal(calls, 1, 'on start');
    jobs.ticketArrived();
    await settle();
    assert.equal(calls, 2, 'the first failed: again with the ticket');
    jobs.ticketArrived();
    await settle();
    assert.equal(calls, 2, 'synced: a later ticket changes nothing');
    await jobs.stop();
  });

  test('a ticket arriving while a failing sync runs makes it run once more', async () => {
    let calls = 0;
    let finish: (ok: boolean) => void = () => undefined;
    const jobs = new BackgroundJobs({
      store: {} as never,
      platform: {} as never,
      logger: silentLogger,
      syncTemplates: () => {
        calls++;
        return calls === 1 ? new Promise<boolean>((resolve) => (finish = resolve)) : Promise.resolve(true);
      },
    });
    jobs.start();
    jobs.ticketArrived();
    assert.equal(calls, 1, 'one at a time');
    finish(false);
    await settle();
    await settle();
    assert.equal(calls, 2);
    await jobs.stop();
  });
});

describe('template sync logging', () => {
  const capture = () => {
    const lines: Array<[string, string]> = [];
    const at = (level: string) => (_fields: Record<string, unknown>, message: string) => void lines.push([level, message]);
    return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
  };
  const templates = { list: () => Promise.resolve([]), replace: () => Promise.resolve() } as never;

  test('before the first ticket a failed sync is expected: info, not a warning; any other failure warns', async () => {
    const waiting = capture();
    const beforeTicket = new TemplateService({
      templates,
      auditLog: {} as never,
      platform: { listTemplates: () => Promise.reject(new NoTicketError('no ticket yet', { operation: 'listTemplates' })) },
      logger: waiting.logger,
    });
    assert.equal(await beforeTicket.syncQuietly(), false);
    assert.deepEqual(waiting.lines, [['info', 'template library sync waits for the first component ticket']]);

    const failing = capture();
    const down = new TemplateService({
      templates,
      auditLog: {} as never,
      platform: { listTemplates: () => Promise.reject(new Error('connection refused')) },
      logger: failing.logger,
    });
    assert.equal(await down.syncQuietly(), false);
    assert.deepEqual(failing.lines, [['warn', 'could not sync the template library']]);
  });
});
