/**
 * The merchant's ext config (issue #5): the template's defaults, the merchant's overrides as JSON (checked
 * before saving), the effective document every upload sends. Saved with the version it was read at: a
 * concurrent change answers 409 ext_version_conflict, shown plainly.
 */
import { useEffect, useState } from 'react';
import { ApiError } from '../../api/client.ts';
import { useExt, useSaveExt } from '../../hooks/use-ext.ts';
import { useCan } from '../../hooks/use-me.ts';
import { useI18n } from '../../i18n/index.tsx';
import { ErrorMessage, isNotFound } from '../error-message.tsx';

function parseObject(text: string): { value?: Record<string, unknown>; problem?: string } {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'object' };
    return { value: value as Record<string, unknown> };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}

export function ExtPanel({ appId }: { appId: string }) {
  const { t, time } = useI18n();
  const canOperate = useCan('operator');
  const ext = useExt(appId);
  const save = useSaveExt(appId);
  const [text, setText] = useState('');
  useEffect(() => {
    if (ext.data) setText(JSON.stringify(ext.data.overrides, null, 2));
  }, [ext.data]);
  const parsed = parseObject(text);
  const conflict = save.error instanceof ApiError && save.error.code === 'ext_version_conflict';

  return (
    <section aria-labelledby="ext-title" className="panel">
      <h2 id="ext-title">{t('ext.title')}</h2>
      {isNotFound(ext.error) ? <p className="muted" role="status">{t('ext.unavailable')}</p> : <ErrorMessage error={ext.error} />}
      {ext.data && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (parsed.value && ext.data) save.mutate({ templateId: ext.data.templateId, overrides: parsed.value, baseVersion: ext.data.version });
          }}
        >
          <p className="muted small">
            {t('ext.meta', { templateId: ext.data.templateId, version: ext.data.version, at: time(ext.data.updatedAt), by: ext.data.updatedBy ?? '—' })}
          </p>
          <div className="grid-3">
            <div className="field">
              <span className="label">{t('ext.defaults')}</span>
              <pre className="json">{JSON.stringify(ext.data.defaults, null, 2)}</pre>
            </div>
            <div className="field">
              <label htmlFor="ext-overrides">{t('ext.overrides')}</label>
              <textarea
                id="ext-overrides"
                className="json"
                rows={12}
                value={text}
                readOnly={!canOperate}
                onChange={(event) => setText(event.target.value)}
                aria-invalid={parsed.problem !== undefined}
                aria-describedby="ext-problem"
                spellCheck={false}
              />
              {parsed.problem && (
                <p id="ext-problem" className="field-error">
                  {parsed.problem === 'object' ? t('ext.notObject') : t('ext.invalidJson', { problem: parsed.problem })}
                </p>
              )}
            </div>
            <div className="field">
              <span className="label">{t('ext.effective')}</span>
              <pre className="json">{JSON.stringify(ext.data.effective, null, 2)}</pre>
            </div>
          </div>
          {canOperate && (
            <button type="submit" className="primary" disabled={!parsed.value || save.isPending}>
              {t('ext.save')}
            </button>
          )}
          {save.isSuccess && <p role="status" className="ok-text">{t('common.saved')}</p>}
          {conflict ? (
            <div role="alert" className="error">
              {t('ext.conflict')}{' '}
              <button type="button" onClick={() => void ext.refetch()}>
                {t('ext.reload')}
              </button>
            </div>
          ) : (
            <ErrorMessage error={save.error} />
          )}
        </form>
      )}
    </section>
  );
}
