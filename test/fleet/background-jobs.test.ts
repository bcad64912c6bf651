import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BackgroundJobs } from '../../src/fleet/background-jobs.ts';
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
