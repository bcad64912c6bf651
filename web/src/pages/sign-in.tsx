import { useState, type FormEvent } from 'react';
import { session, verifyKey } from '../api/client.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { useI18n } from '../i18n/index.tsx';

export function SignInPage() {
  const { t, lang, setLang } = useI18n();
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await verifyKey(key.trim());
      session.signIn(key.trim());
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="sign-in">
      <form onSubmit={(event) => void submit(event)} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">{t('app.title')}</h1>
        <p className="muted">{t('signIn.intro')}</p>
        <div className="field">
          <label htmlFor="api-key">{t('signIn.key')}</label>
          <input id="api-key" type="password" autoComplete="off" required value={key} onChange={(event) => setKey(event.target.value)} placeholder="ksk_…" autoFocus />
        </div>
        <ErrorMessage error={error} />
        <button type="submit" className="primary" disabled={busy || !key.trim()}>
          {t('signIn.submit')}
        </button>
        <p className="muted small">{t('signIn.hint')}</p>
        <label className="inline">
          {t('nav.language')}{' '}
          <select value={lang} onChange={(event) => setLang(event.target.value === 'en' ? 'en' : 'zh-CN')}>
            <option value="zh-CN">中文</option>
            <option value="en">English</option>
          </select>
        </label>
      </form>
    </main>
  );
}
