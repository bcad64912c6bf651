import { useState } from 'react';
import { ErrorMessage } from '../components/error-message.tsx';
import { useCan } from '../hooks/use-me.ts';
import { useInvite } from '../hooks/use-merchants.ts';
import { useI18n } from '../i18n/index.tsx';

export function InvitePage() {
  const { t, time } = useI18n();
  const canOperate = useCan('operator');
  const invite = useInvite();
  const [copied, setCopied] = useState(false);
  const link = invite.data;
  const copy = async () => {
    if (!link) return;
    await navigator.clipboard.writeText(link.url);
    setCopied(true);
  };
  return (
    <section>
      <h1>{t('invite.title')}</h1>
      <p className="muted">{t('invite.intro')}</p>
      {canOperate ? (
        <button type="button" className="primary" onClick={() => { setCopied(false); invite.mutate(); }} disabled={invite.isPending} data-testid="create-invite">
          {t('invite.create')}
        </button>
      ) : (
        <p className="muted">{t('common.needsOperator')}</p>
      )}
      <ErrorMessage error={invite.error} />
      {link && (
        <div className="panel">
          <div className="field">
            <label htmlFor="invite-link">{t('invite.link')}</label>
            <input id="invite-link" readOnly value={link.url} onFocus={(event) => event.target.select()} data-testid="invite-link" />
          </div>
          <button type="button" onClick={() => void copy().catch(() => setCopied(false))}>
            {t('invite.copy')}
          </button>{' '}
          <a href={link.url} target="_blank" rel="noreferrer">
            {t('invite.open')}
          </a>
          <p role="status">{copied ? t('invite.copied') : ''}</p>
          <p>{t('invite.expires', { at: time(link.expiresAt) })}</p>
        </div>
      )}
    </section>
  );
}
