/** A button that asks first, in a modal dialog (Esc cancels; focus stays in the dialog). */
import { useRef, type ReactNode } from 'react';
import { useI18n } from '../i18n/index.tsx';

interface Props {
  label: string;
  title: string;
  body: ReactNode;
  onConfirm: () => void;
  disabled?: boolean;
  danger?: boolean;
  testId?: string;
}

export function ConfirmButton({ label, title, body, onConfirm, disabled, danger, testId }: Props) {
  const { t } = useI18n();
  const dialog = useRef<HTMLDialogElement>(null);
  return (
    <>
      <button type="button" className={danger ? 'danger' : undefined} disabled={disabled} onClick={() => dialog.current?.showModal()} data-testid={testId}>
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={`${testId ?? label}-title`}>
        <form method="dialog">
          <h2 id={`${testId ?? label}-title`}>{title}</h2>
          <div>{body}</div>
          <div className="actions">
            <button value="cancel" autoFocus>
              {t('common.cancel')}
            </button>
            <button value="confirm" className={danger ? 'danger' : 'primary'} onClick={() => onConfirm()}>
              {label}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
