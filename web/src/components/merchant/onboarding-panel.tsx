/**
 * Quick activation (快速开通, issue #7) of one merchant: the status, channel, rollout, why it is blocked in
 * plain words, the timeline (authorized → domains → uploaded → auditing → live), and the dry run.
 */
import { useState } from 'react';
import type { OnboardingPlan, OnboardingStatus, OnboardingView } from '../../api/shapes.ts';
import { useOnboardingPlan, useStartOnboarding } from '../../hooks/use-channels.ts';
import { useCan } from '../../hooks/use-me.ts';
import { useI18n, type MessageKey } from '../../i18n/index.tsx';
import { Link, rolloutPath } from '../../router.tsx';
import { ConfirmButton } from '../confirm-button.tsx';
import { ErrorMessage } from '../error-message.tsx';

const TONE: Record<OnboardingStatus, string> = { none: 'muted', disabled: 'muted', blocked: 'bad', failed: 'bad', starting: 'info', in_progress: 'info', live: 'ok' };
const PERMISSION_SET: Record<number, MessageKey> = { 1: 'onboarding.set1', 2: 'onboarding.set2' };

/** What a step of the dry run would do, in words where the console knows the step, else its JSON. */
function StepDetail({ step }: { step: OnboardingPlan['steps'][number] }) {
  const { t } = useI18n();
  const { step: name, ...rest } = step;
  if (name === 'upload') {
    return (
      <>
        {t('onboarding.planUpload', { templateId: String(rest.templateId), version: String(rest.userVersion) })} {rest.ext !== undefined && <code className="small">ext {JSON.stringify(rest.ext)}</code>}
      </>
    );
  }
  if (name === 'release') return <>{rest.automatic === true ? t('onboarding.planReleaseAuto') : t('onboarding.planReleaseManual')}</>;
  if (name === 'audit') return null;
  return Object.keys(rest).length > 0 ? <code className="small">{JSON.stringify(rest)}</code> : null;
}

function PlanView({ plan }: { plan: OnboardingPlan }) {
  const { t, has } = useI18n();
  return (
    <div className="panel" data-testid="onboarding-plan">
      <p role="status">
        <strong>{plan.wouldStart ? t('onboarding.wouldStart') : t('onboarding.wouldNotStart')}</strong>
        {plan.channel ? ` · ${t('onboarding.planChannel', { name: plan.channel.name, templateId: plan.channel.templateId, version: plan.channel.userVersion })}` : ''}
        {plan.policy.forcedOff ? ` · ${t('channels.forcedOff')}` : ''}
      </p>
      {plan.blockers.length > 0 && (
        <>
          <h3>{t('onboarding.blockers')}</h3>
          <ul data-testid="plan-blockers">
            {plan.blockers.map((blocker) => (
              <li key={blocker.code}>
                <code>{blocker.code}</code> {blocker.message}
              </li>
            ))}
          </ul>
        </>
      )}
      <h3>{t('onboarding.steps')}</h3>
      {plan.steps.length === 0 ? (
        <p className="muted">{t('onboarding.noSteps')}</p>
      ) : (
        <ol data-testid="plan-steps">
          {plan.steps.map((step, index) => {
            const name = step.step;
            const key = `onboarding.plan.${name}`;
            return (
              <li key={index}>
                <strong>{has(key) ? t(key) : name}</strong> <StepDetail step={step} />
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}

export function OnboardingPanel({ appId, onboarding }: { appId: string; onboarding: OnboardingView | undefined }) {
  const { t, time } = useI18n();
  const [dryRun, setDryRun] = useState(false);
  const plan = useOnboardingPlan(appId, dryRun);
  const canOperate = useCan('operator');
  const start = useStartOnboarding(appId);
  // Nothing to start while it runs or once live.
  const startable = onboarding !== undefined && ['none', 'blocked', 'failed'].includes(onboarding.status);
  return (
    <section aria-labelledby="onboarding-title" className="panel" data-testid="onboarding-card">
      <h2 id="onboarding-title">{t('onboarding.title')}</h2>
      {!onboarding ? (
        <p className="muted">{t('onboarding.unavailable')}</p>
      ) : (
        <>
          <p>
            <span className={`badge ${TONE[onboarding.status]}`} data-testid="onboarding-status">
              {t(`onboarding.status.${onboarding.status}`)}
            </span>{' '}
            <span className="muted">{t(`onboarding.explain.${onboarding.status}`)}</span>
          </p>
          <dl className="facts">
            <dt>{t('onboarding.channel')}</dt>
            <dd>{onboarding.channel ?? '—'}</dd>
            <dt>{t('onboarding.rollout')}</dt>
            <dd>{onboarding.rolloutId ? <Link to={rolloutPath(onboarding.rolloutId)}>{onboarding.rolloutId}</Link> : '—'}</dd>
          </dl>
          {onboarding.missingPermissions.length > 0 && (
            <div className="error" role="alert" data-testid="onboarding-missing">
              <p>{t('onboarding.missing')}</p>
              <ul>
                {onboarding.missingPermissions.map((set) => (
                  <li key={set}>{PERMISSION_SET[set] ? t(PERMISSION_SET[set]) : t('onboarding.setUnknown', { set })}</li>
                ))}
              </ul>
              <p className="small">{t('onboarding.missingHint')}</p>
            </div>
          )}
          {onboarding.reason && (
            <p data-testid="onboarding-reason">
              <strong>{t('onboarding.reason')}:</strong> {onboarding.reason}
            </p>
          )}
          {onboarding.timeline.length > 0 && (
            <ol className="timeline" data-testid="onboarding-timeline">
              {onboarding.timeline.map((entry) => (
                <li key={entry.step} className={entry.done ? 'done' : 'pending'}>
                  <span aria-hidden="true">{entry.done ? '✓' : '○'}</span> {t(`onboarding.step.${entry.step}`)}{' '}
                  <span className="muted small">{entry.done ? (entry.at === null ? t('onboarding.timeUnknown') : time(entry.at)) : t('onboarding.pending')}</span>
                </li>
              ))}
            </ol>
          )}
        </>
      )}
      <div className="actions">
        <button type="button" onClick={() => (dryRun ? void plan.refetch() : setDryRun(true))} disabled={plan.isFetching} data-testid="onboarding-dry-run">
          {t('onboarding.dryRun')}
        </button>
        {canOperate && startable && (
          <ConfirmButton
            label={t('onboarding.start')}
            title={t('onboarding.startConfirm', { appId })}
            body={t('onboarding.startHint')}
            disabled={start.isPending}
            onConfirm={() => start.mutate()}
            testId="onboarding-start"
          />
        )}
      </div>
      {start.data && (
        <p role="status" data-testid="onboarding-start-result">
          {t(`onboarding.startOutcome.${start.data.outcome}`)}
          {start.data.reason ? ` (${start.data.reason})` : ''}
        </p>
      )}
      <ErrorMessage error={start.error} />
      <ErrorMessage error={plan.error} />
      {plan.data && <PlanView plan={plan.data} />}
    </section>
  );
}
