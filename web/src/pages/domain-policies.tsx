/**
 * Domain policies (issue #5): the wanted server and webview domains for a set of merchants; a dry run
 * shows each merchant's drift, apply starts a rollout. Until the API exists (404) the page says so.
 */
import { useState } from 'react';
import { SERVER_DOMAIN_LISTS, type DomainPolicyBody, type ServerDomainList } from '../api/types.ts';
import { DomainListEditor, domainProblem, parseDomains } from '../components/domain-list-editor.tsx';
import { ErrorMessage, isNotFound } from '../components/error-message.tsx';
import { useDomainPolicy } from '../hooks/use-domain-policies.ts';
import { useCan } from '../hooks/use-me.ts';
import { useI18n } from '../i18n/index.tsx';
import { Link, rolloutPath } from '../router.tsx';

const SCHEME: Record<ServerDomainList, 'https' | 'wss' | 'udp'> = { request: 'https', socket: 'wss', uploadFile: 'https', downloadFile: 'https', udp: 'udp' };

function DriftView({ answer }: { answer: Record<string, unknown> }) {
  const { t } = useI18n();
  const drift = answer.drift ?? answer.items ?? answer.merchants;
  const rollout = answer.rollout as { id?: string } | undefined;
  const rolloutId = typeof answer.rolloutId === 'string' ? answer.rolloutId : rollout?.id;
  return (
    <div className="panel" data-testid="drift">
      {rolloutId && (
        <p role="status">
          {t('policies.applied')} <Link to={rolloutPath(rolloutId)}>{rolloutId}</Link>
        </p>
      )}
      {Array.isArray(drift) ? (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('audit.merchant')}</th>
              <th scope="col">{t('policies.diff')}</th>
            </tr>
          </thead>
          <tbody>
            {drift.map((entry: unknown, index) => {
              const row = entry as Record<string, unknown>;
              const { appId, ...rest } = row;
              return (
                <tr key={typeof appId === 'string' ? appId : index}>
                  <td>{typeof appId === 'string' ? appId : '—'}</td>
                  <td>
                    <pre className="json small">{JSON.stringify(rest, null, 2)}</pre>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <pre className="json">{JSON.stringify(answer, null, 2)}</pre>
      )}
    </div>
  );
}

export function DomainPoliciesPage() {
  const { t } = useI18n();
  const canOperate = useCan('operator');
  const policy = useDomainPolicy();
  const [mode, setMode] = useState<'all' | 'filter'>('all');
  const [q, setQ] = useState('');
  const [server, setServer] = useState<Record<ServerDomainList, string>>({ request: '', socket: '', uploadFile: '', downloadFile: '', udp: '' });
  const [webview, setWebview] = useState('');
  const valid =
    SERVER_DOMAIN_LISTS.every((list) => parseDomains(server[list]).every((d) => domainProblem(d, SCHEME[list]) === null)) &&
    parseDomains(webview).every((d) => domainProblem(d) === null);

  const body = (dryRun: boolean): DomainPolicyBody => ({
    targets: mode === 'all' ? { all: true } : { status: 'authorized', ...(q.trim() ? { q: q.trim() } : {}) },
    serverDomains: Object.fromEntries(SERVER_DOMAIN_LISTS.map((list) => [list, parseDomains(server[list])])),
    webviewDomains: parseDomains(webview),
    dryRun,
  });

  return (
    <section>
      <h1>{t('policies.title')}</h1>
      <p className="muted">{t('policies.intro')}</p>
      <form onSubmit={(event) => { event.preventDefault(); if (valid) policy.mutate(body(true)); }}>
        <fieldset>
          <legend>{t('rolloutNew.step2')}</legend>
          <label className="inline">
            <input type="radio" name="policy-targets" checked={mode === 'all'} onChange={() => setMode('all')} /> {t('rolloutNew.all')}
          </label>
          <label className="inline">
            <input type="radio" name="policy-targets" checked={mode === 'filter'} onChange={() => setMode('filter')} /> {t('rolloutNew.filter')}
          </label>
          {mode === 'filter' && (
            <div className="field">
              <label htmlFor="policy-q">{t('merchants.search')}</label>
              <input id="policy-q" value={q} onChange={(event) => setQ(event.target.value)} />
            </div>
          )}
        </fieldset>
        <fieldset>
          <legend>{t('domains.server')}</legend>
          <div className="grid-2">
            {SERVER_DOMAIN_LISTS.map((list) => (
              <DomainListEditor key={list} id={`policy-${list}`} label={t(`domains.${list}`)} scheme={SCHEME[list]} value={server[list]} onChange={(value) => setServer({ ...server, [list]: value })} />
            ))}
          </div>
        </fieldset>
        <fieldset>
          <legend>{t('domains.webview')}</legend>
          <DomainListEditor id="policy-webview" label={t('domains.webviewList')} value={webview} onChange={setWebview} />
        </fieldset>
        <div className="actions">
          {canOperate && (
            <button type="submit" className="primary" disabled={!valid || policy.isPending}>
              {t('policies.dryRun')}
            </button>
          )}
          {canOperate && (
            <button type="button" disabled={!valid || policy.isPending || !policy.data} onClick={() => policy.mutate(body(false))}>
              {t('policies.apply')}
            </button>
          )}
        </div>
      </form>
      {isNotFound(policy.error) ? <p role="status" className="muted">{t('policies.unavailable')}</p> : <ErrorMessage error={policy.error} />}
      {policy.data && <DriftView answer={policy.data} />}
    </section>
  );
}
