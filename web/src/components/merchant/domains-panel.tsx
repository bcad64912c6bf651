/** Server domains (five lists) and webview domains, edited as text and checked before saving. */
import { useEffect, useState } from 'react';
import { SERVER_DOMAIN_LISTS, type ServerDomainList, type ServerDomains } from '../../api/shapes.ts';
import { useCan } from '../../hooks/use-me.ts';
import { useSaveServerDomains, useSaveWebviewDomains, useServerDomains, useWebviewDomains } from '../../hooks/use-merchants.ts';
import { useI18n } from '../../i18n/index.tsx';
import { DomainListEditor, domainProblem, parseDomains } from '../domain-list-editor.tsx';
import { ErrorMessage } from '../error-message.tsx';

const SCHEME: Record<ServerDomainList, 'https' | 'wss' | 'udp'> = { request: 'https', socket: 'wss', uploadFile: 'https', downloadFile: 'https', udp: 'udp' };

function allValid(text: string, scheme: 'https' | 'wss' | 'udp'): boolean {
  return parseDomains(text).every((domain) => domainProblem(domain, scheme) === null);
}

function ServerDomainsForm({ appId, initial, readOnly }: { appId: string; initial: ServerDomains; readOnly: boolean }) {
  const { t } = useI18n();
  const save = useSaveServerDomains(appId);
  const [texts, setTexts] = useState(() => Object.fromEntries(SERVER_DOMAIN_LISTS.map((list) => [list, initial[list].join('\n')])) as Record<ServerDomainList, string>);
  const valid = SERVER_DOMAIN_LISTS.every((list) => allValid(texts[list], SCHEME[list]));
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        if (valid) save.mutate(Object.fromEntries(SERVER_DOMAIN_LISTS.map((list) => [list, parseDomains(texts[list])])) as ServerDomains);
      }}
    >
      <h3>{t('domains.server')}</h3>
      <div className="grid-2">
        {SERVER_DOMAIN_LISTS.map((list) => (
          <DomainListEditor key={list} id={`server-${list}`} label={t(`domains.${list}`)} scheme={SCHEME[list]} value={texts[list]} readOnly={readOnly} onChange={(value) => setTexts({ ...texts, [list]: value })} />
        ))}
      </div>
      {!readOnly && (
        <button type="submit" className="primary" disabled={!valid || save.isPending}>
          {t('domains.saveServer')}
        </button>
      )}
      {save.isSuccess && <p role="status" className="ok-text">{t('common.saved')}</p>}
      <ErrorMessage error={save.error} />
    </form>
  );
}

function WebviewDomainsForm({ appId, initial, readOnly }: { appId: string; initial: string[]; readOnly: boolean }) {
  const { t } = useI18n();
  const save = useSaveWebviewDomains(appId);
  const [text, setText] = useState(initial.join('\n'));
  useEffect(() => setText(initial.join('\n')), [initial]);
  const valid = allValid(text, 'https');
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        if (valid) save.mutate(parseDomains(text));
      }}
    >
      <h3>{t('domains.webview')}</h3>
      <DomainListEditor id="webview-domains" label={t('domains.webviewList')} value={text} readOnly={readOnly} onChange={setText} />
      {!readOnly && (
        <button type="submit" className="primary" disabled={!valid || save.isPending}>
          {t('domains.saveWebview')}
        </button>
      )}
      {save.isSuccess && <p role="status" className="ok-text">{t('common.saved')}</p>}
      <ErrorMessage error={save.error} />
    </form>
  );
}

export function DomainsPanel({ appId }: { appId: string }) {
  const { t } = useI18n();
  const readOnly = !useCan('operator');
  const server = useServerDomains(appId);
  const webview = useWebviewDomains(appId);
  return (
    <section aria-labelledby="domains-title" className="panel">
      <h2 id="domains-title">{t('domains.title')}</h2>
      <ErrorMessage error={server.error} />
      {server.data && <ServerDomainsForm appId={appId} initial={server.data} readOnly={readOnly} />}
      <ErrorMessage error={webview.error} />
      {webview.data && <WebviewDomainsForm appId={appId} initial={webview.data} readOnly={readOnly} />}
    </section>
  );
}
