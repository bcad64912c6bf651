/**
 * A template's ext defaults (issue #13): the custom config and the app config every merchant inherits,
 * each edited as JSON and saved on its own (a PUT with only that part); one version for both.
 */
import { useSaveTemplateExt, useTemplateExt } from '../hooks/use-ext.ts';
import { useCan } from '../hooks/use-me.ts';
import { useI18n } from '../i18n/index.tsx';
import { ErrorMessage } from './error-message.tsx';
import { ExtPartEditor } from './ext-part-editor.tsx';

export function TemplateExtEditor({ templateId, onClose }: { templateId: number; onClose: () => void }) {
  const { t, time } = useI18n();
  const canOperate = useCan('operator');
  const defaults = useTemplateExt(templateId);
  const saveCustom = useSaveTemplateExt(templateId);
  const saveAppConfig = useSaveTemplateExt(templateId);
  const view = defaults.data;
  const reload = () => {
    saveCustom.reset();
    saveAppConfig.reset();
    void defaults.refetch();
  };

  return (
    <section aria-labelledby="template-ext-title" className="panel" data-testid="template-ext">
      <div className="toolbar">
        <h2 id="template-ext-title">{t('templates.extTitle', { templateId })}</h2>
        <button type="button" onClick={onClose}>
          {t('templates.extClose')}
        </button>
      </div>
      <ErrorMessage error={defaults.error} />
      {view && (
        <>
          <p className="muted small">{t('templates.extIntro')}</p>
          <p className="muted small">{t('templates.extMeta', { version: view.version, at: time(view.updatedAt), by: view.updatedBy ?? '—' })}</p>
          <div className="columns">
            <ExtPartEditor
              id="template-ext-custom"
              title={t('ext.custom.title')}
              hint={t('templates.extCustomHint')}
              label={t('templates.extDefaults')}
              value={view.ext}
              canSave={canOperate}
              saveLabel={t('ext.save')}
              onSave={(ext) => {
                saveAppConfig.reset();
                saveCustom.mutate({ ext, baseVersion: view.version });
              }}
              saving={saveCustom.isPending}
              saved={saveCustom.isSuccess}
              error={saveCustom.error}
              onReload={reload}
            />
            <ExtPartEditor
              id="template-ext-app-config"
              title={t('ext.appConfig.title')}
              hint={t('templates.extAppConfigHint')}
              label={t('templates.extDefaults')}
              value={view.appConfig}
              canSave={canOperate}
              saveLabel={t('ext.appConfig.save')}
              onSave={(appConfig) => {
                saveCustom.reset();
                // What its fields may hold is the server's to say (400 app_config_unknown_field / app_config_invalid, named).
                saveAppConfig.mutate({ appConfig, baseVersion: view.version });
              }}
              saving={saveAppConfig.isPending}
              saved={saveAppConfig.isSuccess}
              error={saveAppConfig.error}
              onReload={reload}
            />
          </div>
        </>
      )}
    </section>
  );
}
