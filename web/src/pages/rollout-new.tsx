/** The rollout wizard: template and version, targets (all, the merchants table's selection, a filter) with a preview count, waves and limits; the plan from the server's answer. */
import { useState, type FormEvent } from 'react';
import type { NewRollout, RolloutTargets, Wave } from '../api/shapes.ts';
import { CHANNEL_NAME } from '../components/channel-editor.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { rolloutTitle } from '../components/rollout-title.ts';
import { useChannels } from '../hooks/use-channels.ts';
import { useCan } from '../hooks/use-me.ts';
import { useMerchantCount } from '../hooks/use-merchants.ts';
import { useCreateRollout } from '../hooks/use-rollouts.ts';
import { useTemplates } from '../hooks/use-templates.ts';
import { useI18n } from '../i18n/index.tsx';
import { Link, rolloutPath, useLocation } from '../router.tsx';

export const SELECTION_ITEM = 'ks-isv.rolloutSelection';

function readSelection(): string[] {
  try {
    const value: unknown = JSON.parse(sessionStorage.getItem(SELECTION_ITEM) ?? '[]');
    return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

interface WaveRow {
  kind: 'count' | 'percent';
  value: string;
}

function TargetPreview({ mode, q, selection }: { mode: string; q: string; selection: number }) {
  const { t, number } = useI18n();
  const count = useMerchantCount(mode === 'filter' ? { status: 'authorized', ...(q ? { q } : {}) } : { status: 'authorized' });
  const n = mode === 'selection' ? selection : count.data;
  return (
    <p role="status" data-testid="target-preview">
      {n === undefined ? '…' : t('rolloutNew.preview', { count: number(n) })}
    </p>
  );
}

export function NewRolloutPage() {
  const { t } = useI18n();
  const { search } = useLocation();
  const canOperate = useCan('operator');
  const templates = useTemplates();
  const channels = useChannels();
  const create = useCreateRollout();
  const [selection] = useState(readSelection);
  const [templateId, setTemplateId] = useState(search.get('templateId') ?? '');
  const [userVersion, setUserVersion] = useState(search.get('version') ?? '');
  const [userDesc, setUserDesc] = useState('');
  const [mode, setMode] = useState(search.get('targets') === 'selection' && selection.length > 0 ? 'selection' : 'all');
  const [q, setQ] = useState('');
  const [waves, setWaves] = useState<WaveRow[]>([{ kind: 'count', value: '1' }, { kind: 'percent', value: '50' }]);
  const [autoRelease, setAutoRelease] = useState(true);
  const [maxFailurePercent, setMaxFailurePercent] = useState('20');
  const [concurrency, setConcurrency] = useState('10');
  const [promoteTo, setPromoteTo] = useState('');

  const chosenTemplate = templateId || String(templates.data?.at(-1)?.templateId ?? '');
  const template = templates.data?.find((candidate) => String(candidate.templateId) === chosenTemplate);
  const version = userVersion || template?.userVersion || '';
  const waveProblem = waves.some((w) => !(Number(w.value) > 0) || (w.kind === 'percent' && Number(w.value) > 100) || (w.kind === 'count' && !Number.isInteger(Number(w.value))));
  const failure = Number(maxFailurePercent);
  const cap = Number(concurrency);
  const valid = chosenTemplate !== '' && version !== '' && !waveProblem && failure >= 0 && failure <= 100 && Number.isInteger(cap) && cap >= 1 && cap <= 1000 && (mode !== 'selection' || selection.length > 0) && (promoteTo === '' || CHANNEL_NAME.test(promoteTo));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!valid) return;
    const targets: RolloutTargets = mode === 'selection' ? { appIds: selection } : mode === 'filter' ? { status: 'authorized', ...(q.trim() ? { q: q.trim() } : {}) } : { all: true };
    const body: NewRollout = {
      templateId: Number(chosenTemplate),
      userVersion: version,
      userDesc,
      targets,
      waves: waves.map((w): Wave => (w.kind === 'count' ? { count: Number(w.value) } : { percent: Number(w.value) })),
      autoRelease,
      maxFailureRate: failure / 100,
      concurrency: cap,
      ...(promoteTo ? { promoteTo } : {}),
    };
    create.mutate(body);
  };

  if (!canOperate) return <p className="muted">{t('common.needsOperator')}</p>;

  if (create.data) {
    const { rollout, progress } = create.data;
    return (
      <section>
        <h1>{t('rolloutNew.created')}</h1>
        <p>{rolloutTitle(t, rollout)} · {t('rolloutNew.total', { count: progress.total })}</p>
        <h2>{t('rolloutNew.plan')}</h2>
        <ol data-testid="plan">
          {rollout.waves.map((wave) => (
            <li key={wave.wave}>{t('rolloutNew.waveSize', { wave: wave.wave, size: wave.size })}</li>
          ))}
        </ol>
        <Link to={rolloutPath(rollout.id)} className="button primary" data-testid="watch-rollout">
          {t('rolloutNew.watch')}
        </Link>
      </section>
    );
  }

  return (
    <section>
      <h1>{t('rolloutNew.title')}</h1>
      <form onSubmit={submit} className="wizard">
        <fieldset>
          <legend>{t('rolloutNew.step1')}</legend>
          <div className="field">
            <label htmlFor="rollout-template">{t('versions.templateField')}</label>
            <select id="rollout-template" value={chosenTemplate} onChange={(event) => { setTemplateId(event.target.value); setUserVersion(''); }}>
              {templates.data?.map((candidate) => (
                <option key={candidate.templateId} value={candidate.templateId}>
                  {candidate.templateId} · {candidate.userVersion} · {candidate.userDesc}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="rollout-version">{t('versions.userVersion')}</label>
            <input id="rollout-version" value={version} onChange={(event) => setUserVersion(event.target.value)} required maxLength={64} />
          </div>
          <div className="field">
            <label htmlFor="rollout-desc">{t('versions.userDesc')}</label>
            <input id="rollout-desc" value={userDesc} onChange={(event) => setUserDesc(event.target.value)} maxLength={1024} />
          </div>
        </fieldset>

        <fieldset>
          <legend>{t('rolloutNew.step2')}</legend>
          <label className="inline">
            <input type="radio" name="targets" value="all" checked={mode === 'all'} onChange={() => setMode('all')} /> {t('rolloutNew.all')}
          </label>
          <label className="inline">
            <input type="radio" name="targets" value="selection" checked={mode === 'selection'} disabled={selection.length === 0} onChange={() => setMode('selection')} />{' '}
            {t('rolloutNew.selection', { count: selection.length })}
          </label>
          <label className="inline">
            <input type="radio" name="targets" value="filter" checked={mode === 'filter'} onChange={() => setMode('filter')} /> {t('rolloutNew.filter')}
          </label>
          {mode === 'filter' && (
            <div className="field">
              <label htmlFor="rollout-q">{t('merchants.search')}</label>
              <input id="rollout-q" value={q} onChange={(event) => setQ(event.target.value)} maxLength={100} />
            </div>
          )}
          <TargetPreview mode={mode} q={q.trim()} selection={selection.length} />
        </fieldset>

        <fieldset>
          <legend>{t('rolloutNew.step3')}</legend>
          <p className="muted small">{t('rolloutNew.wavesHint')}</p>
          <ol className="waves">
            {waves.map((wave, index) => (
              <li key={index}>
                <label className="visually-hidden" htmlFor={`wave-kind-${index}`}>{t('rolloutNew.waveKind', { wave: index + 1 })}</label>
                <select id={`wave-kind-${index}`} value={wave.kind} onChange={(event) => setWaves(waves.map((w, i) => (i === index ? { ...w, kind: event.target.value === 'percent' ? 'percent' : 'count' } : w)))}>
                  <option value="count">{t('rolloutNew.count')}</option>
                  <option value="percent">{t('rolloutNew.percent')}</option>
                </select>
                <label className="visually-hidden" htmlFor={`wave-value-${index}`}>{t('rolloutNew.waveValue', { wave: index + 1 })}</label>
                <input id={`wave-value-${index}`} type="number" min={1} max={wave.kind === 'percent' ? 100 : undefined} value={wave.value} size={6} onChange={(event) => setWaves(waves.map((w, i) => (i === index ? { ...w, value: event.target.value } : w)))} />
                <button type="button" onClick={() => setWaves(waves.filter((_, i) => i !== index))} aria-label={t('rolloutNew.removeWave', { wave: index + 1 })}>
                  ×
                </button>
              </li>
            ))}
          </ol>
          {waveProblem && <p className="field-error">{t('rolloutNew.waveProblem')}</p>}
          <button type="button" onClick={() => setWaves([...waves, { kind: 'percent', value: '100' }])} disabled={waves.length >= 20}>
            {t('rolloutNew.addWave')}
          </button>
          <p className="muted small">{t('rolloutNew.lastWave')}</p>
        </fieldset>

        <fieldset>
          <legend>{t('rolloutNew.step4')}</legend>
          <label className="inline">
            <input type="checkbox" checked={autoRelease} onChange={(event) => setAutoRelease(event.target.checked)} /> {t('rolloutNew.autoRelease')}
          </label>
          <div className="field">
            <label htmlFor="rollout-failure">{t('rolloutNew.maxFailureRate')}</label>
            <input id="rollout-failure" type="number" min={0} max={100} value={maxFailurePercent} onChange={(event) => setMaxFailurePercent(event.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="rollout-concurrency">{t('rolloutNew.concurrency')}</label>
            <input id="rollout-concurrency" type="number" min={1} max={1000} value={concurrency} onChange={(event) => setConcurrency(event.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="rollout-promote">{t('rolloutNew.promoteTo')}</label>
            <input id="rollout-promote" list="rollout-channels" value={promoteTo} onChange={(event) => setPromoteTo(event.target.value.trim())} placeholder="stable" maxLength={32} aria-invalid={promoteTo !== '' && !CHANNEL_NAME.test(promoteTo)} />
            <datalist id="rollout-channels">
              {channels.data?.map((channel) => (
                <option key={channel.name} value={channel.name} />
              ))}
            </datalist>
            {promoteTo !== '' && !CHANNEL_NAME.test(promoteTo) && <p className="field-error">{t('channels.nameInvalid')}</p>}
            <p className="muted small">{t('rolloutNew.promoteHint')}</p>
          </div>
        </fieldset>

        <ErrorMessage error={create.error} />
        <button type="submit" className="primary" disabled={!valid || create.isPending} data-testid="start-rollout">
          {t('rolloutNew.start')}
        </button>
      </form>
    </section>
  );
}
