/**
 * Work nobody asks for: a component ticket on boot, idle merchants' refresh tokens renewed well inside
 * their 30-day life, and the template library synced on start and periodically. Safe on several instances at once (the token lease makes the refresh happen once).
 */
import type { Logger } from '../kuaishou/logger.ts';
import type { PlatformPort } from './platform-port.ts';
import type { Store } from './ports.ts';

const DAY = 24 * 3_600_000;

export interface BackgroundJobsOptions {
  store: Store;
  platform: PlatformPort;
  logger: Logger;
  /** Renew a merchant's pair when its refresh token has less than this left (default 20 days). */
  renewWithinMs?: number;
  /** How often to look (default hourly). */
  intervalMs?: number;
  /**
   * Syncs the template library (on start, then every `templateSyncMs`) and says whether it could; failures
   * are its own to log. A failed sync (e.g. the first, before the component ticket arrived) is tried again
   * by `ticketArrived`.
   */
  syncTemplates?: () => Promise<boolean>;
  /** Default every 10 minutes. */
  templateSyncMs?: number;
}

export class BackgroundJobs {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private templateTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private templatesSynced = false;
  private syncAgain = false;
  private stopped = true;

  constructor(private readonly options: BackgroundJobsOptions) {}

  /** On boot with no valid ticket, asks the platform to push one. */
  async ensureTicket(): Promise<void> {
    const { platform, logger } = this.options;
    try {
      if (await platform.tokens.hasValidTicket()) return;
      await platform.tokens.requestTicketPush();
      logger.info({}, 'no valid component ticket: asked the platform to push one');
    } catch (error) {
      logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'could not ask the platform for a ticket');
    }
  }

  /** Renews every authorized merchant whose refresh token nears its end. Returns how many were checked. */
  async keepMerchantsAlive(): Promise<number> {
    const { store, platform, logger } = this.options;
    const withinMs = this.options.renewWithinMs ?? 20 * DAY;
    const appIds = await store.merchants.authorizedAppIds();
    for (const appId of appIds) {
      try {
        await platform.tokens.keepAuthorizerAlive(appId, withinMs);
      } catch (error) {
        logger.warn({ appId, error: error instanceof Error ? error.message : String(error) }, 'could not renew merchant tokens');
      }
    }
    return appIds.length;
  }

  start(): void {
    this.stopped = false;
    const tick = (): void => {
      this.running ??= this.keepMerchantsAlive()
        .then(() => undefined)
        .finally(() => (this.running = undefined));
    };
    this.timer = setInterval(tick, this.options.intervalMs ?? 3_600_000);
    this.timer.unref();
    if (this.options.syncTemplates) {
      this.syncTemplatesNow();
      this.templateTimer = setInterval(() => this.syncTemplatesNow(), this.options.templateSyncMs ?? 600_000);
      this.templateTimer.unref();
    }
  }

  /** A component ticket arrived: if no template sync succeeded yet (none could without one), sync now. */
  ticketArrived(): void {
    if (!this.templatesSynced) this.syncTemplatesNow();
  }

  private syncTemplatesNow(): void {
    const { syncTemplates } = this.options;
    if (!syncTemplates || this.stopped) return;
    if (this.syncing) {
      // The running sync may have started before the ticket arrived: run once more after it if it fails.
      this.syncAgain = true;
      return;
    }
    this.syncing = syncTemplates()
      .then((synced) => {
        this.templatesSynced ||= synced;
      })
      .finally(() => {
        this.syncing = undefined;
        const again = this.syncAgain && !this.templatesSynced;
        this.syncAgain = false;
        if (again) this.syncTemplatesNow();
      });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopped = true;
    clearInterval(this.templateTimer);
    await this.running;
    await this.syncing;
  }
}
