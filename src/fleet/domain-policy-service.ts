/**
 * Domain policies (desired-state domains for many merchants): a dry run reads each target merchant's
 * current domains and answers the per-merchant diff (the drift report); applying one is a rollout of
 * kind `domains` (`RolloutService.createDomainRollout`), with its progress, retries and report.
 */
import { errorCodeOf, recordAction, type Actor } from './audit-trail.ts';
import { diffDomains, type DomainDiff } from './domain-policy.ts';
import { FleetError, invalid } from './errors.ts';
import type { PlatformPort } from './platform-port.ts';
import type { AuditLogRepository } from './ports.ts';
import { translatePlatformError } from './platform-errors.ts';
import type { DomainPolicySpec, Rollout, RolloutProgress } from './rollout-model.ts';
import type { BatchSettings, RolloutService, RolloutTargets } from './rollout-service.ts';
import { readDomains } from './rollout-steps.ts';
import { runtimeReachWarnings, type PolicyWarning } from './runtime-reach.ts';

export interface DriftItem extends Partial<DomainDiff> {
  appId: string;
  inSync: boolean;
  /** Why the merchant's domains could not be read (then no diff). */
  error: { code: string; message: string } | null;
}

export interface DriftReport {
  policy: DomainPolicySpec;
  summary: {
    /** Merchants the targets select. */
    targets: number;
    /** Merchants read in this page. */
    checked: number;
    inSync: number;
    drifting: number;
    unreadable: number;
    /** Unreadable merchants by error code. */
    errors: Record<string, number>;
  };
  items: DriftItem[];
  /** What the policy would break beyond the diff: e.g. the runtime's host left out of the request domains. */
  warnings: PolicyWarning[];
  /** The app id to pass as `cursor` for the next page; null when this page is the last. */
  nextCursor: string | null;
}

export interface DryRunInput {
  targets: RolloutTargets;
  domains: DomainPolicySpec;
  /** Merchants read per page (default 100, at most 500). */
  limit?: number;
  /** Continue after this app id. */
  cursor?: string;
}

export interface DomainPolicyServiceOptions {
  rollouts: RolloutService;
  platform: PlatformPort;
  auditLog: AuditLogRepository;
  now?: () => number;
  /** Merchants read at once in a dry run (default 8); every read also waits for the rate limit. */
  readConcurrency?: number;
  /** Where the runtime answers (PUBLIC_URL), read at each dry run. */
  runtimeUrl?: () => string;
}

export class DomainPolicyService {
  constructor(private readonly options: DomainPolicyServiceOptions) {}

  /** The drift report: nothing is changed on the platform; who looked is in the audit log (`domains.plan`). */
  async dryRun(actor: Actor, input: DryRunInput): Promise<DriftReport> {
    const { rollouts } = this.options;
    const policy = rollouts.checkPolicy(input.domains);
    const limit = input.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw invalid('limit must be an integer from 1 to 500');
    const appIds = await rollouts.resolveTargets(input.targets);
    if (appIds.length === 0) throw invalid('the targets select no authorized merchant');
    const rest = input.cursor === undefined ? appIds : appIds.filter((appId) => appId > input.cursor!);
    const page = rest.slice(0, limit);
    const record: Record<string, unknown> = { domains: policy, targets: appIds.length };
    return recordAction(this.options.auditLog, (this.options.now ?? Date.now)(), { actor, action: 'domains.plan', appId: null, summary: record }, async () => {
      const items = await this.readAll(page, policy);
      const summary: DriftReport['summary'] = { targets: appIds.length, checked: items.length, inSync: 0, drifting: 0, unreadable: 0, errors: {} };
      for (const item of items) {
        if (item.error) {
          summary.unreadable++;
          summary.errors[item.error.code] = (summary.errors[item.error.code] ?? 0) + 1;
        } else if (item.inSync) summary.inSync++;
        else summary.drifting++;
      }
      Object.assign(record, { checked: summary.checked, inSync: summary.inSync, drifting: summary.drifting, unreadable: summary.unreadable });
      const warnings = this.options.runtimeUrl ? runtimeReachWarnings(policy, this.options.runtimeUrl()) : [];
      return { policy, summary, items, warnings, nextCursor: rest.length > page.length ? page.at(-1)! : null };
    });
  }

  /** Applies the policy as a rollout of kind `domains` (201 with the rollout). */
  apply(actor: Actor, input: BatchSettings & { domains: DomainPolicySpec }): Promise<{ rollout: Rollout; progress: RolloutProgress }> {
    return this.options.rollouts.createDomainRollout(actor, input);
  }

  private async readAll(appIds: string[], policy: DomainPolicySpec): Promise<DriftItem[]> {
    const items: DriftItem[] = new Array<DriftItem>(appIds.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < appIds.length) {
        const index = next++;
        items[index] = await this.readOne(appIds[index]!, policy);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.readConcurrency ?? 8, appIds.length) }, worker));
    return items;
  }

  private async readOne(appId: string, policy: DomainPolicySpec): Promise<DriftItem> {
    const { rollouts, platform } = this.options;
    try {
      const current = await readDomains({ platform, beforeCall: () => rollouts.beforeCall() }, appId, policy);
      return { appId, ...diffDomains(policy, current), error: null };
    } catch (caught) {
      const error = translatePlatformError(caught, appId);
      if (!(error instanceof FleetError)) throw error;
      return { appId, inSync: false, error: { code: errorCodeOf(error), message: error.message } };
    }
  }
}
