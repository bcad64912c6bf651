/** Rollouts of kind `domains` and rollouts with a domain policy in the store, and migration 0004 on old rows. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Migrator, type Kysely } from 'kysely';
import type { DomainRollout, Rollout, RolloutTarget, TemplateRollout } from '../../src/fleet/rollout-model.ts';
import * as initial from '../../src/store/migrations/2026-11-25-0001-initial.ts';
import * as rollouts from '../../src/store/migrations/2026-11-25-0002-rollouts.ts';
import { openDatabase, type SqlStore } from '../../src/store/index.ts';
import { sortableId } from '../../src/store/sortable-id.ts';
import { dialectTargets } from './dialects.ts';

const T0 = 1_800_000_000_000;

const common = {
  status: 'running' as const,
  autoRelease: true,
  maxFailureRate: 0.2,
  failuresAcknowledged: 0,
  concurrency: 5,
  waves: [{ wave: 1, size: 1 }],
  currentWave: 1,
  pauseReason: null,
  createdBy: 'key_op',
  createdAt: T0,
  updatedAt: T0,
  finishedAt: null,
  origin: 'operator' as const,
  promoteTo: null,
  extDefaults: null,
};

function domainRollout(domains: DomainRollout['domains'] = { server: { request: ['https://api.example.com'] }, webview: [] }): DomainRollout {
  return { ...common, id: sortableId(T0), kind: 'domains', templateId: null, userVersion: null, userDesc: null, domains };
}

function templateRollout(domains: TemplateRollout['domains'] = null): TemplateRollout {
  return { ...common, id: sortableId(T0), kind: 'template', templateId: 3, userVersion: '1.0.0', userDesc: 'menu', domains };
}

function target(rollout: Rollout, appId: string): RolloutTarget {
  return { rolloutId: rollout.id, appId, wave: 1, state: 'pending', attempts: 0, nextRunAt: T0, leaseOwner: null, leaseUntil: null, lastErrorCode: null, lastError: null, updatedAt: T0, stateClaims: 0, auditPushed: null };
}

for (const dialect of dialectTargets()) {
  describe(`domain rollouts in the store on ${dialect.name}`, { skip: dialect.skip }, () => {
    let store: SqlStore;
    before(async () => {
      store = await dialect.open(dialect.fresh().url);
    });
    after(async () => {
      await store?.close();
      await dialect.cleanup();
    });

    test('kind, null template fields and the policy come back as stored', async () => {
      const policy = domainRollout({ server: { request: ['https://api.example.com'], udp: [] }, webview: ['https://h5.example.com'] });
      const onboarding = templateRollout({ webview: ['https://h5.example.com'] });
      const plain = templateRollout();
      for (const rollout of [policy, onboarding, plain]) {
        await store.rollouts.create(rollout, [target(rollout, 'ks_one')]);
        assert.deepEqual(await store.rollouts.get(rollout.id), rollout);
      }
      const listed = await store.rollouts.list({ limit: 10 });
      assert.deepEqual(new Set(listed.items.map((r) => r.kind)), new Set(['template', 'domains']));
      const progress = await store.rollouts.progress(policy.id);
      assert.equal(progress.byState.applied, 0);
      await store.rollouts.transition(policy.id, ['pending'], 'applied', T0 + 1);
      assert.equal((await store.rollouts.progress(policy.id)).byState.applied, 1);
    });

    test('unfinishedElsewhere: by default any rollout; else only those touching code or domains', async () => {
      const fresh = await dialect.open(dialect.fresh().url);
      try {
        const policy = domainRollout();
        const upgrade = templateRollout();
        const onboarding = templateRollout({ webview: [] });
        await fresh.rollouts.create(policy, [target(policy, 'ks_p')]);
        await fresh.rollouts.create(upgrade, [target(upgrade, 'ks_u')]);
        await fresh.rollouts.create(onboarding, [target(onboarding, 'ks_o')]);
        const apps = ['ks_p', 'ks_u', 'ks_o', 'ks_free'];
        const busy = async (touching?: { code: boolean; domains: boolean }): Promise<string[]> =>
          (await fresh.rollouts.unfinishedElsewhere(apps, touching)).map((entry) => entry.appId).sort();
        assert.deepEqual(await busy(), ['ks_o', 'ks_p', 'ks_u']);
        assert.deepEqual(await busy({ code: true, domains: false }), ['ks_o', 'ks_u']);
        assert.deepEqual(await busy({ code: false, domains: true }), ['ks_o', 'ks_p']);
        assert.deepEqual(await busy({ code: false, domains: false }), []);
        await fresh.rollouts.transition(policy.id, ['pending'], 'applied', T0 + 1);
        assert.deepEqual(await busy({ code: false, domains: true }), ['ks_o'], 'an applied target is finished');
      } finally {
        await fresh.close();
      }
    });

    test('migration 0004 keeps rollouts made before it valid: kind template, no policy', async () => {
      const { url } = dialect.fresh();
      const database = await openDatabase(url);
      const id = sortableId(T0);
      try {
        const db = database.db as unknown as Kysely<unknown>;
        const upTo0002 = new Migrator({
          db,
          provider: { getMigrations: () => Promise.resolve({ '2026-11-25-0001-initial': initial, '2026-11-25-0002-rollouts': rollouts }) },
          ...(database.schema ? { migrationTableSchema: database.schema } : {}),
        });
        const { error } = await upTo0002.migrateToLatest();
        assert.equal(error, undefined);
        await database.db
          .insertInto('rollouts')
          // The columns of 0002 only.
          .values({
            id, template_id: 7, user_version: '0.9.0', user_desc: 'old', status: 'completed', auto_release: 1, failures_acknowledged: 0, max_failure_rate: 0.2,
            concurrency: 10, waves_json: '[{"wave":1,"size":1}]', current_wave: 1, pause_reason: null, created_by: null, created_at: T0, updated_at: T0, finished_at: T0,
          } as never)
          .execute();
      } finally {
        await database.close();
      }
      const migrated = await dialect.open(url);
      try {
        const old = await migrated.rollouts.get(id);
        assert.equal(old?.kind, 'template');
        assert.equal(old?.domains, null);
        assert.equal(old?.templateId, 7);
        assert.equal(old?.userVersion, '0.9.0');
      } finally {
        await migrated.close();
      }
    });
  });
}
