/**
 * The merchant's ext.json (issues #5, #13): the custom config (`ext`, what the template reads at run time)
 * and the app config (pages, tabBar… beside it), each as the template's defaults, the merchant's overrides
 * (JSON, saved on its own: a PUT with only that part) and the effective document; then the whole ext.json
 * an upload would send now, as the server assembles it. Both parts share one version: a concurrent change
 * answers 409 ext_version_conflict, shown plainly.
 */
import { ApiError } from '../../api/client.ts';
import { useExt, useExtPreview, useReloadExt, useSaveExt } from '../../hooks/use-ext.ts';
import { useCan } from '../../hooks/use-me.ts';
import { useI18n } from '../../i18n/index.tsx';
import { ErrorMessage, isNotFound } from '../error-message.tsx';
import { ExtPartEditor, fieldOf, NamedError } from '../ext-part-editor.tsx';

function Preview({ appId, templateId }: { appId: string; templateId: number }) {
  const { t } = useI18n();
  const preview = useExtPreview(appId, templateId);
  const { error } = preview;
  let body;
  if (isNotFound(error)) body = <p className="muted">{t('ext.preview.unavailable')}</p>;
  else if (error instanceof ApiError && error.code === 'app_config_invalid') {
    body = <NamedError error={error} sentence={t('ext.preview.invalid', { field: fieldOf(error) ?? '—' })} testId="ext-preview-invalid" />;
  } else if (error) body = <ErrorMessage error={error} />;
  else if (preview.data) {
    body = (
      <pre className="json preview" data-testid="ext-preview" tabIndex={0}>
        {JSON.stringify(preview.data.extJson, null, 2)}
      </pre>
    );
  }
  return (
    <section aria-labelledby="ext-preview-title" className="ext-preview" aria-busy={preview.isFetching}>
      <h3 id="ext-preview-title">{t('ext.preview.title')}</h3>
      <p className="muted small">{t('ext.preview.hint', { templateId })}</p>
      {body}
    </section>
  );
}

export function ExtPanel({ appId }: { appId: string }) {
  const { t, time } = useI18n();
  const canOperate = useCan('operator');
  const ext = useExt(appId);
  const saveCustom = useSaveExt(appId);
  const saveAppConfig = useSaveExt(appId);
  const reloadExt = useReloadExt(appId);
  const view = ext.data;
  const reload = () => {
    saveCustom.reset();
    saveAppConfig.reset();
    void reloadExt();
  };

  return (
    <section aria-labelledby="ext-title" className="panel" data-testid="ext-panel">
      <h2 id="ext-title">{t('ext.title')}</h2>
      {isNotFound(ext.error) ? <p className="muted" role="status">{t('ext.unavailable')}</p> : <ErrorMessage error={ext.error} />}
      {view && (
        <>
          <p className="muted small">{t('ext.intro')}</p>
          <p className="muted small" data-testid="ext-meta">
            {t('ext.meta', { templateId: view.templateId, version: view.version, at: time(view.updatedAt), by: view.updatedBy ?? '—' })}
          </p>
          <ExtPartEditor
            id="ext-overrides"
            title={t('ext.custom.title')}
            hint={t('ext.custom.hint')}
            label={t('ext.overrides')}
            value={view.overrides}
            layers={{ defaults: view.defaults, effective: view.effective }}
            canSave={canOperate}
            saveLabel={t('ext.save')}
            onSave={(overrides) => {
              saveAppConfig.reset();
              saveCustom.mutate({ templateId: view.templateId, overrides, baseVersion: view.version });
            }}
            saving={saveCustom.isPending}
            saved={saveCustom.isSuccess}
            error={saveCustom.error}
            onReload={reload}
          />
          <ExtPartEditor
            id="ext-app-config"
            title={t('ext.appConfig.title')}
            hint={t('ext.appConfig.hint')}
            label={t('ext.overrides')}
            value={view.appConfigOverrides}
            layers={{ defaults: view.appConfigDefaults, effective: view.effectiveAppConfig }}
            canSave={canOperate}
            saveLabel={t('ext.appConfig.save')}
            onSave={(appConfig) => {
              saveCustom.reset();
              // What its fields may hold is the server's to say (400 app_config_unknown_field / app_config_invalid, named).
              saveAppConfig.mutate({ templateId: view.templateId, appConfig, baseVersion: view.version });
            }}
            saving={saveAppConfig.isPending}
            saved={saveAppConfig.isSuccess}
            error={saveAppConfig.error}
            onReload={reload}
          />
          <Preview appId={appId} templateId={view.templateId} />
        </>
      )}
    </section>
  );
}
