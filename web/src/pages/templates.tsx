import { useState } from 'react';
import { ErrorMessage } from '../components/error-message.tsx';
import { TemplateExtEditor } from '../components/template-ext-editor.tsx';
import { useCan } from '../hooks/use-me.ts';
import { useTemplates } from '../hooks/use-templates.ts';
import { useI18n } from '../i18n/index.tsx';
import { Link } from '../router.tsx';

export function TemplatesPage() {
  const { t, time } = useI18n();
  const templates = useTemplates();
  const canOperate = useCan('operator');
  const [editing, setEditing] = useState<number | null>(null);
  return (
    <section>
      <h1>{t('templates.title')}</h1>
      <p className="muted">{t('templates.intro')}</p>
      <ErrorMessage error={templates.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">{t('templates.id')}</th>
            <th scope="col">{t('templates.version')}</th>
            <th scope="col">{t('templates.desc')}</th>
            <th scope="col">{t('templates.createdAt')}</th>
            <th scope="col">{t('common.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {templates.data?.map((template) => (
            <tr key={template.templateId}>
              <td>{template.templateId}</td>
              <td>{template.userVersion}</td>
              <td>{template.userDesc}</td>
              <td>{time(template.createdAt)}</td>
              <td className="row-actions">
                {/* Viewers open the defaults too, read-only. */}
                <button type="button" data-testid={`template-ext-open-${template.templateId}`} aria-pressed={editing === template.templateId} onClick={() => setEditing(template.templateId)}>
                  {t('templates.extOpen')}
                </button>
                {canOperate && (
                  <Link to={`/rollouts/new?templateId=${template.templateId}&version=${encodeURIComponent(template.userVersion)}`}>{t('templates.rollout')}</Link>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editing !== null && <TemplateExtEditor key={editing} templateId={editing} onClose={() => setEditing(null)} />}
    </section>
  );
}
