import { useState } from 'react';
import { TARGET_STATES, type RolloutStatus, type TargetState } from '../api/shapes.ts';
import { Badge } from '../components/badge.tsx';
import { rolloutTitle } from '../components/rollout-title.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { Pager, useCursorStack } from '../components/pager.tsx';
import { ProgressBar } from '../components/progress-bar.tsx';
import { useCan } from '../hooks/use-me.ts';
import { useRollout, useRolloutCommand, useRolloutEvents, useRolloutTargets, type RolloutCommand } from '../hooks/use-rollouts.ts';
import { useI18n } from '../i18n/index.tsx';
import { Link, merchantPath } from '../router.tsx';

const ALLOWED: Record<RolloutCommand, RolloutStatus[]> = {
  pause: ['running'],
  resume: ['paused'],
  abort: ['running', 'paused'],
  rollback: ['completed', 'paused', 'aborted'],
  release: ['running', 'paused'],
};

function Targets({ id }: { id: string }) {
  const { t, time } = useI18n();
  // '' is "all"; the select offers only TARGET_STATES, so its value is one of them.
  const [state, setState] = useState<TargetState | ''>('');
  const pager = useCursorStack();
  const targets = useRolloutTargets(id, { ...(state ? { state } : {}), ...(pager.cursor ? { cursor: pager.cursor } : {}) });
  return (
    <section aria-labelledby="targets-title" className="panel">
      <h2 id="targets-title">{t('rollout.targets')}</h2>
      <div className="field">
        <label htmlFor="target-state">{t('rollout.targetState')}</label>
        <select id="target-state" value={state} onChange={(event) => { setState(event.target.value as TargetState | ''); pager.reset(); }}>
          <option value="">{t('common.all')}</option>
          {TARGET_STATES.map((s) => (
            <option key={s} value={s}>
              {t(`state.${s}`)}
            </option>
          ))}
        </select>
      </div>
      <ErrorMessage error={targets.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">{t('audit.merchant')}</th>
            <th scope="col">{t('rollout.wave')}</th>
            <th scope="col">{t('rollout.targetState')}</th>
            <th scope="col">{t('rollout.attempts')}</th>
            <th scope="col">{t('rollout.lastError')}</th>
            <th scope="col">{t('merchants.updatedAt')}</th>
          </tr>
        </thead>
        <tbody>
          {targets.data?.items.map((target) => (
            <tr key={target.appId}>
              <td>
                <Link to={merchantPath(target.appId)}>{target.appId}</Link>
              </td>
              <td>{target.wave}</td>
              <td>
                <Badge state={target.state} />
              </td>
              <td>{target.attempts}</td>
              <td>{target.lastError ? <>{target.lastErrorCode && <code>{target.lastErrorCode}</code>} {target.lastError}</> : '—'}</td>
              <td>{time(target.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager pager={pager} nextCursor={targets.data?.nextCursor} />
    </section>
  );
}

export function RolloutPage({ id }: { id: string }) {
  const { t, time } = useI18n();
  const canOperate = useCan('operator');
  const rollout = useRollout(id);
  const live = useRolloutEvents(id, rollout.data?.rollout.status);
  const command = useRolloutCommand(id);
  const data = rollout.data;
  return (
    <section>
      <p>
        <Link to="/rollouts">← {t('nav.rollouts')}</Link>
      </p>
      <ErrorMessage error={rollout.error} />
      {data && (
        <>
          <h1>
            {rolloutTitle(t, data.rollout)} <Badge state={data.rollout.status} />{' '}
            <span className={`live ${live ? 'on' : ''}`}>{live ? t('rollout.live') : ''}</span>
          </h1>
          <p className="muted">
            {t('rollout.meta', {
              id: data.rollout.id,
              at: time(data.rollout.createdAt),
              by: data.rollout.createdBy ?? '—',
              autoRelease: data.rollout.autoRelease ? t('common.yes') : t('common.no'),
              rate: Math.round(data.rollout.maxFailureRate * 100),
              concurrency: data.rollout.concurrency,
            })}
          </p>
          {data.rollout.pauseReason && (
            <p role="status" className="warn-text">
              {t('rollout.paused', { reason: data.rollout.pauseReason })}
            </p>
          )}
          <div data-testid="rollout-status" data-status={data.rollout.status} hidden />
          <ProgressBar byState={data.progress.byState} size={data.progress.total} label={t('rollouts.overall')} />
          <div className="waves-progress">
            {data.progress.byWave.map((wave) => (
              <ProgressBar key={wave.wave} byState={wave.byState} size={wave.size} label={`${t('rollout.waveLabel', { wave: wave.wave })}${wave.wave === data.rollout.currentWave && data.rollout.status === 'running' ? ` · ${t('rollout.current')}` : ''}`} />
            ))}
          </div>
          {canOperate && (
            <div className="actions" role="group" aria-label={t('common.actions')}>
              {(Object.keys(ALLOWED) as RolloutCommand[])
                // A domain policy has nothing to release or roll back.
                .filter((name) => data.rollout.kind !== 'domains' || (name !== 'release' && name !== 'rollback'))
                .map((name) => (
                <ConfirmButton
                  key={name}
                  label={t(`rolloutCommand.${name}`)}
                  title={t(`rolloutCommand.${name}.confirm`)}
                  body={t(`rolloutCommand.${name}.body`)}
                  disabled={!ALLOWED[name].includes(data.rollout.status) || command.isPending}
                  danger={name === 'abort' || name === 'rollback'}
                  onConfirm={() => command.mutate(name)}
                  testId={`rollout-${name}`}
                />
              ))}
            </div>
          )}
          <ErrorMessage error={command.error} />
          <Targets id={id} />
        </>
      )}
    </section>
  );
}
