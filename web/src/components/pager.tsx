/** Cursor paging: a stack of the cursors seen, so Previous goes back exactly. */
import { useCallback, useMemo, useState } from 'react';
import { useI18n } from '../i18n/index.tsx';

export function useCursorStack() {
  const [stack, setStack] = useState<string[]>([]);
  const next = useCallback((cursor: string) => setStack((current) => [...current, cursor]), []);
  const previous = useCallback(() => setStack((current) => current.slice(0, -1)), []);
  const reset = useCallback(() => setStack((current) => (current.length === 0 ? current : [])), []);
  return useMemo(() => ({ cursor: stack.at(-1), page: stack.length + 1, next, previous, reset }), [stack, next, previous, reset]);
}

export function Pager({ pager, nextCursor }: { pager: ReturnType<typeof useCursorStack>; nextCursor: string | null | undefined }) {
  const { t } = useI18n();
  return (
    <nav className="pager" aria-label={t('pager.label')}>
      <button type="button" disabled={pager.page === 1} onClick={pager.previous}>
        {t('pager.previous')}
      </button>
      <span>{t('pager.page', { page: pager.page })}</span>
      <button type="button" disabled={!nextCursor} onClick={() => nextCursor && pager.next(nextCursor)}>
        {t('pager.next')}
      </button>
    </nav>
  );
}
