import { useState } from 'react';
import { ROLLOUT_STATUSES, type RolloutStatus } from '../api/shapes.ts';
import { Badge } from '../components/badge.tsx';
import { rolloutTitle } from '../components/rollout-title.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { Pager, useCursorStack } from '../components/pager.tsx';
import { useCan } from '../hooks/use-me.ts';
import { useRollouts } from '../hooks/use-rollouts.ts';
import { useI18n } from '../i18n/index.tsx';
import { Link, rolloutPath } from '../router.tsx';

export function RolloutsPage() {
  const { t, time } = useI18n();
  const canOperate = useCan('operator');
  // '' is "all"; the select offers only ROLLOUT_STATUSES, so its value is one of them.
  const [status, setStatus] = useState<RolloutStatus | ''>('');
  const pager = useCursorStack();
  const rollouts = useRollouts({ ...(status ? { status } : {}), ...(pager.cursor ? { cursor: pager.cursor } : {}) });
  return (
    <section>
      <h1>{t('rollouts.title')}</h1>
      <div className="toolbar">
        <div className="field">
          <label htmlFor="rollout-status">{t('rollouts.status')}</label>
          <select id="rollout-status" value={status} onChange={(event) => { setStatus(event.target.value as RolloutStatus | ''); pager.reset(); }}>
            <option value="">{t('common.all')}</option>
            {ROLLOUT_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`state.${s}`)}
              </option>
            ))}
          </select>
        </div>
        {canOperate && (
          <Link to="/rollouts/new" className="button primary" data-testid="new-rollout">
            {t('rollouts.new')}
          </Link>
        )}
      </div>
      <ErrorMessage error={rollouts.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">{t('rollouts.id')}</th>
            <th scope="col">{t('rollouts.template')}</th>
            <th scope="col">{t('rollouts.status')}</th>
            <th scope="col">{t('rollouts.waves')}</th>
            <th scope="col">{t('rollouts.createdAt')}</th>
            <th scope="col">{t('rollouts.createdBy')}</th>
          </tr>
        </thead>
        <tbody>
          {rollouts.data?.items.map((rollout) => (
            <tr key={rollout.id}>
              <td>
                <Link to={rolloutPath(rollout.id)}>{rollout.id}</Link>
              </td>
              <td>{rolloutTitle(t, rollout)}</td>
              <td>
                <Badge state={rollout.status} />
              </td>
              <td>{rollout.waves.map((w) => w.size).join(' → ')}</td>
              <td>{time(rollout.createdAt)}</td>
              <td>{rollout.createdBy ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rollouts.isSuccess && rollouts.data.items.length === 0 && <p className="muted">{t('rollouts.empty')}</p>}
      <Pager pager={pager} nextCursor={rollouts.data?.nextCursor} />
    </section>
  );
}
