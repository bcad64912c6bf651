/** The four capabilities: status and reason, apply (with a reason), and a status refresh from the platform. */
import { useState } from 'react';
import { CAPABILITIES, type Capability, type CapabilityName } from '../../api/shapes.ts';
import { useCan } from '../../hooks/use-me.ts';
import { useApplyCapability, useRefreshCapability } from '../../hooks/use-merchants.ts';
import { useI18n } from '../../i18n/index.tsx';
import { Badge } from '../badge.tsx';
import { ConfirmButton } from '../confirm-button.tsx';
import { ErrorMessage } from '../error-message.tsx';

export function CapabilitiesPanel({ appId, capabilities }: { appId: string; capabilities: Capability[] }) {
  const { t, time } = useI18n();
  const canOperate = useCan('operator');
  const apply = useApplyCapability(appId);
  const refresh = useRefreshCapability(appId);
  const [reasons, setReasons] = useState<Partial<Record<CapabilityName, string>>>({});
  return (
    <section aria-labelledby="capabilities-title" className="panel">
      <h2 id="capabilities-title">{t('capabilities.title')}</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">{t('capabilities.name')}</th>
            <th scope="col">{t('capabilities.status')}</th>
            <th scope="col">{t('capabilities.reason')}</th>
            <th scope="col">{t('capabilities.updatedAt')}</th>
            <th scope="col">{t('common.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {CAPABILITIES.map((name) => {
            const record = capabilities.find((c) => c.capability === name);
            return (
              <tr key={name}>
                <th scope="row">{t(`capability.${name}`)}</th>
                <td>
                  <Badge state={record?.status ?? 'not_applied'} />
                </td>
                <td>{record?.reason ?? '—'}</td>
                <td>{time(record?.updatedAt)}</td>
                <td className="row-actions">
                  <button type="button" onClick={() => refresh.mutate(name)} disabled={refresh.isPending}>
                    {t('capabilities.refresh')}
                  </button>
                  {canOperate && (
                    <>
                      <label className="visually-hidden" htmlFor={`reason-${name}`}>
                        {t('capabilities.applyReason', { name: t(`capability.${name}`) })}
                      </label>
                      <input id={`reason-${name}`} value={reasons[name] ?? ''} maxLength={500} placeholder={t('capabilities.reasonHint')} onChange={(event) => setReasons({ ...reasons, [name]: event.target.value })} />
                      <ConfirmButton
                        label={t('capabilities.apply')}
                        title={t('capabilities.applyConfirm', { name: t(`capability.${name}`), appId })}
                        body={reasons[name] || t('capabilities.noReason')}
                        disabled={apply.isPending || record?.status === 'applying' || record?.status === 'approved'}
                        onConfirm={() => apply.mutate({ capability: name, reason: reasons[name] ?? '' })}
                        testId={`apply-${name}`}
                      />
                    </>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <ErrorMessage error={apply.error ?? refresh.error} />
    </section>
  );
}
