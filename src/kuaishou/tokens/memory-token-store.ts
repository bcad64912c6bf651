import type { StoredCredential, TokenStore } from './token-store.ts';

/** `TokenStore` for one process: tests, the CLI, a single-instance deployment without a database. */
export class MemoryTokenStore implements TokenStore {
  private readonly credentials = new Map<string, StoredCredential>();
  private readonly leases = new Map<string, { owner: string; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): Promise<StoredCredential | undefined> {
    const stored = this.credentials.get(key);
    return Promise.resolve(stored && { ...stored });
  }

  compareAndSet(key: string, expectedValue: string | undefined, next: StoredCredential | undefined): Promise<boolean> {
    if (this.credentials.get(key)?.value !== expectedValue) return Promise.resolve(false);
    if (next) this.credentials.set(key, { ...next });
    else this.credentials.delete(key);
    return Promise.resolve(true);
  }

  tryAcquireLease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const lease = this.leases.get(key);
    const now = this.now();
    if (lease && lease.owner !== owner && lease.until > now) return Promise.resolve(false);
    this.leases.set(key, { owner, until: now + ttlMs });
    return Promise.resolve(true);
  }

  releaseLease(key: string, owner: string): Promise<void> {
    if (this.leases.get(key)?.owner === owner) this.leases.delete(key);
    return Promise.resolve();
  }
}
