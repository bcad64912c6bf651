/** An error as the server (or the platform behind it) said it: message, code, and the platform's code. */
import { ApiError } from '../api/client.ts';
import { useI18n } from '../i18n/index.tsx';

export function ErrorMessage({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (!error) return null;
  if (error instanceof ApiError) {
    const named = error.details.platformCodeName ?? error.details.platformCode;
    const platform = typeof named === 'string' || typeof named === 'number' ? named : undefined;
    return (
      <div role="alert" className="error">
        <strong>{t('error.title')}</strong> {error.message}
        <span className="muted">
          {' '}
          ({error.code}
          {platform !== undefined ? ` · ${t('error.platformCode')} ${platform}` : ''}, HTTP {error.status})
        </span>
      </div>
    );
  }
  return (
    <div role="alert" className="error">
      <strong>{t('error.title')}</strong> {error instanceof Error ? error.message : JSON.stringify(error)}
    </div>
  );
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && error.code === 'not_found';
}
