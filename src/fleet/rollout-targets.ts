/** Which merchants a batch (a rollout, a domain policy) takes: the one resolver for both. */
import { invalid } from './errors.ts';
import type { MerchantRepository } from './ports.ts';

export type RolloutTargets = { all: true } | { appIds: string[] } | { status?: 'authorized'; q?: string };

const MAX_TARGETS = 100_000;

/** The authorized merchants `targets` selects, sorted (unknown or revoked app ids: 400). */
export async function selectTargets(merchants: MerchantRepository, targets: RolloutTargets): Promise<string[]> {
  if ('all' in targets) return (await merchants.authorizedAppIds()).sort();
  if ('appIds' in targets) {
    const unique = [...new Set(targets.appIds)];
    if (unique.length > MAX_TARGETS) throw invalid(`at most ${MAX_TARGETS} targets`);
    const problems: string[] = [];
    for (const appId of unique) {
      const merchant = await merchants.get(appId);
      if (!merchant) problems.push(`${appId}: unknown`);
      else if (merchant.status !== 'authorized') problems.push(`${appId}: not authorized`);
    }
    if (problems.length > 0) throw invalid(`some targets cannot be rolled out to: ${problems.slice(0, 5).join('; ')}`, { problems });
    return unique.sort();
  }
  const appIds: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await merchants.list({ status: 'authorized', limit: 500, ...(targets.q ? { q: targets.q } : {}), ...(cursor ? { cursor } : {}) });
    appIds.push(...page.items.map((m) => m.appId));
    cursor = page.nextCursor ?? undefined;
  } while (cursor && appIds.length <= MAX_TARGETS);
  return appIds.sort();
}
