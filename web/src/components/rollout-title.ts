import type { Rollout } from '../api/shapes.ts';
import type { Translate } from '../i18n/index.tsx';

/** "Template 2 · version 1.1.0", or "Domain policy" for a policy applied as a rollout. */
export function rolloutTitle(t: Translate, rollout: Rollout): string {
  if (rollout.kind === 'domains' || rollout.templateId === null) return t('rollouts.domainPolicy');
  return t('rollouts.version', { templateId: rollout.templateId, version: rollout.userVersion ?? '' });
}
