/**
 * Rollouts (kind `template`, and kind `domains`: a domain policy applied as a rollout): planning (targets
 * and waves) and the lifecycle commands (pause, resume, abort, rollback, release), each recorded in the
 * audit log. The scheduler that advances the targets is `rollout-scheduler.ts`; this service owns one and
 * wakes it when a command changes what is due.
 */
import { checkDomainPolicy } from './domain-policy.ts';
import type { RegisteredDomains } from './domain-rules.ts';
import { conflict, invalid, notFound } from './errors.ts';
import { recordAction, type Actor } from './audit-trail.ts';
import type { AuditLogRepository } from './ports.ts';
import { checkChannelName } from './channel-service.ts';
import type { Page } from './model.ts';
import type { MerchantRepository } from './ports.ts';
import type { CallPriority } from './rate-limiter.ts';
import { planWaves, type DomainPolicySpec, type Rollout, type RolloutProgress, type RolloutTarget, type TargetState } from './rollout-model.ts';
import { RolloutScheduler, type RolloutSchedulerOptions } from './rollout-scheduler.ts';
import { selectTargets, type RolloutTargets } from './rollout-targets.ts';
import { newRolloutId, newTarget, startOneMerchantRollout, type OneMerchantRolloutInput } from './one-merchant-rollout.ts';

export type { RolloutTargets } from './rollout-targets.ts';

/** How a batch runs, whatever its kind. */
export interface BatchSettings {
  targets: RolloutTargets;
  waves?: ({ count: number } | { percent: number })[];
  maxFailureRate?: number;
  concurrency?: number;
}

export interface CreateRolloutInput extends BatchSettings {
  templateId: number;
  userVersion: string;
  userDesc: string;
  autoRelease?: boolean;
  /** Applied to each merchant before its upload (onboarding). */
  domains?: DomainPolicySpec | null;
  /** When the rollout completes, this release channel takes its template/version. */
  promoteTo?: string;
}

export interface CreateDomainRolloutInput extends BatchSettings {
  domains: DomainPolicySpec;
}

type Fields = Pick<Rollout, 'kind' | 'templateId' | 'userVersion' | 'userDesc' | 'domains' | 'autoRelease' | 'promoteTo'>;

export type { OneMerchantRolloutInput } from './one-merchant-rollout.ts';
export type { TargetMoved } from './rollout-scheduler.ts';

export interface RolloutServiceOptions extends RolloutSchedulerOptions {
  merchants: MerchantRepository;
  auditLog: AuditLogRepository;
  /** The component's registered domains: a domain policy naming another is refused before any call. */
  registeredDomains?: RegisteredDomains;
}

export class RolloutService {
  private readonly now: () => number;
  private readonly scheduler: RolloutScheduler;

  constructor(private readonly options: RolloutServiceOptions) {
    this.now = options.now ?? Date.now;
    this.scheduler = new RolloutScheduler(options);
  }

  // ---- Scheduler --------------------------------------------------------------------------------------

  start(): void {
    this.scheduler.start();
  }

  stop(): Promise<void> {
    return this.scheduler.stop();
  }

  /** Runs a scheduler round now, or one more after the running one. */
  kick(): void {
    this.scheduler.kick();
  }

  /** One scheduler round. Exposed for tests. */
  tick(): Promise<void> {
    return this.scheduler.tick();
  }

  /** Waits for the platform rate limit this instance's rollouts share (dry runs read through it too). */
  beforeCall(priority?: CallPriority): Promise<void> {
    return this.scheduler.beforeCall(priority);
  }

  // ---- Commands ---------------------------------------------------------------------------------------

  /** Bad input is refused before anything is recorded; the plan and its audit entry follow. */
  async create(actor: Actor, input: CreateRolloutInput): Promise<{ rollout: Rollout; progress: RolloutProgress }> {
    const domains = input.domains ? this.checkPolicy(input.domains) : null;
    if (input.promoteTo !== undefined) checkChannelName(input.promoteTo);
    const fields: Fields = { kind: 'template', templateId: input.templateId, userVersion: input.userVersion, userDesc: input.userDesc, domains, autoRelease: input.autoRelease ?? true, promoteTo: input.promoteTo ?? null };
    const summary: Record<string, unknown> = { templateId: input.templateId, userVersion: input.userVersion, ...(domains ? { domains } : {}), ...(input.promoteTo ? { promoteTo: input.promoteTo } : {}) };
    return this.launch(actor, 'rollout.create', input, fields, summary);
  }

  /** A domain policy applied as a rollout (kind `domains`): every target ends `applied` or `failed`. */
  async createDomainRollout(actor: Actor, input: CreateDomainRolloutInput): Promise<{ rollout: Rollout; progress: RolloutProgress }> {
    const domains = this.checkPolicy(input.domains);
    const fields: Fields = { kind: 'domains', templateId: null, userVersion: null, userDesc: null, domains, autoRelease: true, promoteTo: null };
    return this.launch(actor, 'domains.policy', input, fields, { kind: 'domains', domains });
  }

  /** Checks a policy against the component's registered domains (400 naming the domain) and returns its platform form. */
  checkPolicy(spec: DomainPolicySpec): DomainPolicySpec {
    return checkDomainPolicy(spec, this.options.registeredDomains ?? { server: [], webview: [] });
  }

  private async launch(actor: Actor, action: string, input: BatchSettings, fields: Fields, summary: Record<string, unknown>): Promise<{ rollout: Rollout; progress: RolloutProgress }> {
    const concurrency = input.concurrency ?? 10;
    const maxFailureRate = input.maxFailureRate ?? 0.2;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) throw invalid('concurrency must be an integer from 1 to 1000');
    if (!(maxFailureRate >= 0 && maxFailureRate <= 1)) throw invalid('maxFailureRate must be between 0 and 1');
    const appIds = await this.resolveTargets(input.targets);
    if (appIds.length === 0) throw invalid('the targets select no authorized merchant');
    summary.targets = appIds.length;
    return this.audited(actor, action, summary, async () => {
      // Two rollouts uploading to one mini-program would undo each other's uploads, two domain policies each
      // other's domains; a template rollout and a domain policy touch different things and may overlap.
      // (Inside the audited action: a refusal for this state conflict is in the audit log too.)
      const busy = await this.options.rollouts.unfinishedElsewhere(appIds, { code: fields.kind === 'template', domains: fields.domains !== null });
      if (busy.length > 0) {
        throw conflict('targets_in_active_rollout', `${busy.length} of the targets are still in an unfinished rollout (e.g. ${busy[0]!.appId} in ${busy[0]!.rolloutId}); finish, abort or narrow it first`, {
          busy: busy.slice(0, 20),
        });
      }
      const created = await this.plan(actor, input, fields, appIds, concurrency, maxFailureRate);
      summary.rolloutId = created.rollout.id;
      return created;
    });
  }

  private async plan(actor: Actor, input: BatchSettings, fields: Fields, appIds: string[], concurrency: number, maxFailureRate: number): Promise<{ rollout: Rollout; progress: RolloutProgress }> {
    const waves = planWaves(appIds.length, input.waves ?? []);
    const at = this.now();
    const rollout = {
      id: newRolloutId(at),
      origin: 'operator',
      extDefaults: null,
      ...fields,
      status: 'running',
      maxFailureRate,
      failuresAcknowledged: 0,
      concurrency,
      waves,
      currentWave: 1,
      pauseReason: null,
      createdBy: actor.keyId,
      createdAt: at,
      updatedAt: at,
      finishedAt: null,
    } as Rollout;
    let index = 0;
    const targets: RolloutTarget[] = [];
    for (const wave of waves) {
      for (let i = 0; i < wave.size; i++) targets.push(newTarget(rollout.id, appIds[index++]!, wave.wave, at));
    }
    await this.options.rollouts.create(rollout, targets);
    this.kick();
    return { rollout, progress: await this.options.rollouts.progress(rollout.id) };
  }

  /** Onboarding's one-merchant rollout under the caller's id (idempotent: `exists` when already created). */
  async startOne(input: OneMerchantRolloutInput): Promise<'created' | 'exists'> {
    const result = await startOneMerchantRollout(this.options, input, this.now());
    if (result === 'created') this.kick();
    return result;
  }

  async get(id: string): Promise<{ rollout: Rollout; progress: RolloutProgress }> {
    const rollout = await this.options.rollouts.get(id);
    if (!rollout) throw notFound('rollout', id);
    return { rollout, progress: await this.options.rollouts.progress(id) };
  }

  list(query: { status?: Rollout['status']; limit: number; cursor?: string }): Promise<Page<Rollout>> {
    return this.options.rollouts.list(query);
  }

  targets(query: { rolloutId: string; state?: TargetState; limit: number; cursor?: string }): Promise<Page<RolloutTarget>> {
    return this.options.rollouts.targets(query);
  }

  pause(actor: Actor, id: string): Promise<Rollout> {
    return this.audited(actor, 'rollout.pause', { rolloutId: id }, () => this.move(id, ['running'], 'paused', { pauseReason: 'paused by an operator' }));
  }

  resume(actor: Actor, id: string): Promise<Rollout> {
    return this.audited(actor, 'rollout.resume', { rolloutId: id }, () => this.resumeNow(id));
  }

  abort(actor: Actor, id: string): Promise<Rollout> {
    return this.audited(actor, 'rollout.abort', { rolloutId: id }, () => this.abortNow(id));
  }

  releasePassed(actor: Actor, id: string): Promise<Rollout> {
    return this.audited(actor, 'rollout.release', { rolloutId: id }, () => this.releaseNow(id));
  }

  rollback(actor: Actor, id: string): Promise<Rollout> {
    return this.audited(actor, 'rollout.rollback', { rolloutId: id }, () => this.rollbackNow(id));
  }

  private audited<T>(actor: Actor, action: string, summary: Record<string, unknown>, run: () => Promise<T>): Promise<T> {
    return recordAction(this.options.auditLog, this.now(), { actor, action, appId: null, summary }, run);
  }

  private async resumeNow(id: string): Promise<Rollout> {
    const { progress } = await this.get(id);
    // Resuming acknowledges the failures so far: the brake counts only new ones.
    const rollout = await this.move(id, ['paused'], 'running', { pauseReason: null, failuresAcknowledged: progress.byState.failed + progress.byState.rejected });
    // Audit results that arrived while paused did not wake their targets: look at all of them now.
    await this.options.rollouts.wakeRollout(id, this.now());
    this.kick();
    return rollout;
  }

  private async abortNow(id: string): Promise<Rollout> {
    const rollout = await this.move(id, ['running', 'paused'], 'aborted', { finishedAt: this.now() });
    await this.options.rollouts.transition(id, ['pending'], 'skipped', this.now());
    return rollout;
  }

  /** Releases every target whose audit passed (for rollouts created without autoRelease). */
  private async releaseNow(id: string): Promise<Rollout> {
    const { rollout } = await this.get(id);
    notDomains(rollout, 'release');
    if (rollout.status !== 'running' && rollout.status !== 'paused') throw conflict('rollout_not_active', `rollout ${id} is ${rollout.status}`);
    await this.options.rollouts.update(id, { autoRelease: true }, this.now());
    await this.options.rollouts.wakeRollout(id, this.now());
    this.kick();
    return { ...rollout, autoRelease: true };
  }

  private async rollbackNow(id: string): Promise<Rollout> {
    notDomains((await this.get(id)).rollout, 'roll back');
    const rollout = await this.move(id, ['completed', 'paused', 'aborted', 'running'], 'rolling_back', { pauseReason: null, finishedAt: null });
    await this.options.rollouts.transition(id, ['pending', 'uploaded', 'auditing', 'audit_passed'], 'skipped', this.now());
    this.kick();
    return rollout;
  }

  /** A status change, compare-and-set on the status just read; when another change got in first, re-decided. */
  private async move(id: string, from: Rollout['status'][], to: Rollout['status'], patch: Partial<Pick<Rollout, 'pauseReason' | 'finishedAt' | 'failuresAcknowledged'>>): Promise<Rollout> {
    for (;;) {
      const { rollout } = await this.get(id);
      if (!from.includes(rollout.status)) throw conflict('rollout_state', `rollout ${id} is ${rollout.status}; it cannot become ${to}`, { status: rollout.status });
      if (await this.options.rollouts.update(id, { status: to, ...patch }, this.now(), rollout.status)) return { ...rollout, status: to, ...patch };
    }
  }

  /** The authorized merchants `targets` selects, sorted (unknown or revoked app ids: 400). */
  resolveTargets(targets: RolloutTargets): Promise<string[]> {
    return selectTargets(this.options.merchants, targets);
  }
}

/** A domain policy has no versions: releasing or rolling one back means nothing (409). */
function notDomains(rollout: Rollout, what: string): void {
  if (rollout.kind === 'domains') {
    throw conflict('not_a_template_rollout', `rollout ${rollout.id} applies a domain policy: it has no version to ${what}`, { kind: rollout.kind });
  }
}

