/**
 * The platform probe as an operator action: checks the merchant named, runs the probe (a port: the server
 * wires it to the Kuaishou client, which alone knows the rows), and records it in the audit log. The report
 * is passed through as it came; fleet reads only its counts.
 */
import type { ProbeReport } from '../kuaishou/index.ts';
import { recordAction, type Actor } from './audit-trail.ts';
import { notFound } from './errors.ts';
import type { AuditLogRepository, MerchantRepository } from './ports.ts';

export type { ProbeReport };

/** Runs the read-only calls against the platform, for one merchant or none. */
export type PlatformProbe = (appId: string | undefined) => Promise<ProbeReport>;

export interface ProbeServiceOptions {
  merchants: Pick<MerchantRepository, 'get'>;
  auditLog: AuditLogRepository;
  probe: PlatformProbe;
  now?: () => number;
}

export class ProbeService {
  private readonly now: () => number;

  constructor(private readonly options: ProbeServiceOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * A merchant the service does not know is bad input (`merchant_not_found`); a known one that revoked its
   * authorization is probed anyway: the component rows still tell something, and the report says why its
   * rows were not tried.
   */
  async probe(actor: Actor, appId?: string): Promise<ProbeReport> {
    // Bad input, refused before the action (as an unknown merchant's "onboard now"): not in the audit log.
    if (appId !== undefined && (await this.options.merchants.get(appId)) === undefined) throw notFound('merchant', appId);
    const summary: Record<string, unknown> = {};
    return recordAction(this.options.auditLog, this.now(), { actor, action: 'platform.probe', appId: appId ?? null, summary }, async () => {
      const done = await this.options.probe(appId);
      // recordAction appends the entry with this same summary object after the run: it gets the counts.
      Object.assign(summary, { ...done.summary, ok: done.ok, overriddenRows: done.overriddenRows });
      return done;
    });
  }
}
