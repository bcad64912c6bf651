/**
 * The dry run of an onboarding: what `consider` would do for a merchant now — its steps and its
 * blockers — reading the platform (versions) but never writing to it.
 */
import type { OnboardingPlan, PlanStep } from './channel-model.ts';
import { notFound } from './errors.ts';
import { runtimeReachWarnings } from './runtime-reach.ts';
import { onPlatform } from './platform-errors.ts';
import { missingPermissionsReason, requiredPermissions, type OnboardingService, type OnboardingServiceOptions } from './onboarding-service.ts';

export async function planOnboarding(service: OnboardingService, options: OnboardingServiceOptions, appId: string): Promise<OnboardingPlan> {
  const merchant = await options.merchants.get(appId);
  if (!merchant) throw notFound('merchant', appId);
  const policy = await service.policy();
  const channel = (await options.channels.get(policy.channel)) ?? null;
  const current = await service.view(merchant);
  const blockers: OnboardingPlan['blockers'] = [];
  const block = (code: string, message: string): void => {
    blockers.push({ code, message });
  };

  if (policy.forcedOff) block('forced_off', 'KS_ONBOARDING=off in the server environment');
  else if (!policy.enabled) block('disabled', 'onboarding is disabled (PUT /api/v1/onboarding)');
  if (!channel) block('no_channel', `channel ${policy.channel} does not exist (PUT /api/v1/channels/${policy.channel}, or a rollout with promoteTo)`);
  if (merchant.status !== 'authorized') block('not_authorized', `${appId} revoked its authorization`);
  if (current.status === 'in_progress' || current.status === 'starting') block(current.status, `onboarding is already ${current.status.replace('_', ' ')} (rollout ${current.rolloutId ?? 'being created'})`);

  const steps: PlanStep[] = [];
  if (channel) {
    const missing = requiredPermissions(channel).filter((id) => !merchant.permissions.includes(id));
    if (missing.length > 0) block('missing_permissions', missingPermissionsReason(missing));
    const busy = (await options.rollouts.unfinishedElsewhere([appId], { code: true, domains: channel.domainPolicy !== null })).find((b) => b.rolloutId !== current.rolloutId);
    if (busy) block('busy', `rollout ${busy.rolloutId} is still taking this merchant`);
    if (merchant.status === 'authorized' && missing.length === 0) {
      const versions = await onPlatform(() => options.platform.getVersions(appId), appId);
      const online = versions.online;
      if (online && online.templateId === channel.templateId && online.userVersion === channel.userVersion) {
        block('up_to_date', `already online on template ${channel.templateId} version ${channel.userVersion}`);
      }
    }
    if (channel.domainPolicy) steps.push({ step: 'domains', domainPolicy: channel.domainPolicy });
    const { ext } = await options.extFor(appId, channel.templateId, channel.extDefaults);
    steps.push({ step: 'upload', templateId: channel.templateId, userVersion: channel.userVersion, userDesc: channel.userDesc, ext });
    steps.push({ step: 'audit' });
    steps.push({ step: 'release', automatic: policy.autoRelease ?? channel.autoRelease });
  }
  const warnings = channel && options.runtimeUrl ? runtimeReachWarnings(channel.domainPolicy, options.runtimeUrl()) : [];
  return { appId, policy, channel, current, wouldStart: blockers.length === 0, steps, blockers, warnings };
}
